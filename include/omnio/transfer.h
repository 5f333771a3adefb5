// Whole-object transfers between any two stores with bounded memory, and a bounded parallel runner
// that reports every per-item failure. The CLI's cp/get/rm build on these.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "omnio/batch.h"
#include "omnio/cancel.h"
#include "omnio/object_store.h"

namespace omnio {

/// Called with each chunk's size as bytes move (from any worker thread).
using ProgressFn = std::function<void(std::uint64_t bytes)>;

/// Streams src -> dst through get_to_sink and a streaming writer: memory is bounded by the source
/// store's chunking, whatever the object size; the destination appears only when complete.
/// When the destination writer supports write_at() (a local file without O_DIRECT or
/// compression), the source's get_positional() feeds it instead: ranges are written at their
/// offsets as they arrive, with no range buffers (S3 and Azure: straight from the connection).
/// Returns the bytes copied.
Result<std::uint64_t> copy_object(ObjectStore& src, std::string_view src_uri, ObjectStore& dst,
                                  std::string_view dst_uri, const CancellationToken& cancel = {},
                                  const ProgressFn& progress = {},
                                  const WriterOptions& writer_options = {});

/// What `cp --skip-existing` compares before it skips an object already at the destination.
enum class SkipPolicy {
  /// Equal size and equal content checksum (see already_copied); when no checksum can be
  /// compared cheaply, the object is copied again.
  kSizeAndChecksum,
  /// Equal size only (rclone's --size-only): fast, trusts that equal sizes mean equal bytes.
  kSizeOnly,
};

/// already_copied()'s verdict.
struct SkipVerdict {
  bool skip = false;
  /// Sizes were equal but no checksum could be compared (the object is copied again).
  bool not_comparable = false;
  /// One phrase: "missing", "size differs", "size and crc32c equal", "size and MD5 ETag equal",
  /// "size equal, ETags differ", "size equal, no comparable checksum".
  std::string reason;
};

/// Decides whether dst_uri already holds src_uri's bytes (resume of an interrupted cp -r). A
/// missing destination or a different size: copy. Then, under kSizeAndChecksum:
/// - both local (file://, direct://): CRC32C of both files (reads both, writes nothing);
/// - local and s3://: the local file's MD5 in the S3 ETag's shape ("md5" for a single PUT,
///   "md5(part md5s)-N" with `s3_part_size` parts) compared with the ETag; a multipart ETag whose
///   part count does not match `s3_part_size`, or an ETag that is not an MD5 (SSE-KMS), is not
///   comparable;
/// - s3:// and s3://: ETags equal (same bytes uploaded the same way);
/// - anything with az:// or gs://: not comparable (their ETags are not content hashes) -> copy.
Result<SkipVerdict> already_copied(ObjectStore& src, std::string_view src_uri, ObjectStore& dst,
                                   std::string_view dst_uri, SkipPolicy policy,
                                   std::size_t s3_part_size, const CancellationToken& cancel = {});

/// Runs fn(i) for i in [0, n) on up to `jobs` threads. Every item runs (unless cancelled); every
/// failure is recorded under name(i). Stops starting new items once `cancel` fires.
BatchReport run_parallel(std::size_t n, std::size_t jobs, const CancellationToken& cancel,
                         const std::function<std::string(std::size_t)>& name,
                         const std::function<Status(std::size_t)>& fn);

/// One unit of work for run_streamed(): an object URI and its size (0 when not known).
struct WorkItem {
  std::string uri;
  std::uint64_t size = 0;
};

/// Hands one item to run_streamed()'s workers. Blocks while the window is full; returns
/// kCancelled once the batch is cancelled (the producer should then return that status).
using WorkEmit = std::function<Status(WorkItem&& item)>;

/// run_parallel() over items a producer discovers as it goes (a streamed listing, a key-list
/// file), so memory does not grow with the number of items: `produce` runs on the calling thread
/// and emits items; up to `jobs` workers run fn on them while at most `window` items wait. Every
/// emitted item runs (unless cancelled: those are counted as not started). A producer error ends
/// the listing but not the items already emitted; it is recorded as a failure named
/// `source_name`, so a listing that fails half-way is a partial failure, never a silent success.
BatchReport run_streamed(const std::function<Status(const WorkEmit&)>& produce,
                         std::string_view source_name, std::size_t jobs, std::size_t window,
                         const CancellationToken& cancel,
                         const std::function<Status(const WorkItem&)>& fn);

/// Producers for run_streamed(). emit_listing: every object under `prefix_uri` (recursive,
/// directories left out), as the store's listing streams it; `cancel` interrupts the listing (a
/// page request in flight included). With `sizes` false it lists with list_keys_stream: file://
/// and direct:// then stat nothing and leave WorkItem::size 0 (for work that learns the size
/// when it opens the object).
Status emit_listing(ObjectStore& store, const std::string& prefix_uri, const WorkEmit& emit,
                    const CancellationToken& cancel = {}, bool sizes = true);

/// emit_key_list: the objects of the key list at `path` (include/omnio/key_list.h; relative keys
/// are under `base`), in file order, one line at a time. With `under` set, every object must lie
/// below it: a line that is not is kInvalidArgument naming the file, the line and `cmd`. Returns
/// how many objects were emitted.
Result<std::uint64_t> emit_key_list(const std::string& path, const std::string& base, bool under,
                                    std::string_view cmd, const WorkEmit& emit);

}  // namespace omnio
