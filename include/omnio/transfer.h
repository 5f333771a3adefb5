// Whole-object transfers between any two stores with bounded memory, and a bounded parallel runner
// that reports every per-item failure. The CLI's cp/get/rm build on these.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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

/// Outcome of a batch: how many items succeeded, and each failure with its item.
struct BatchReport {
  std::uint64_t succeeded = 0;
  std::vector<std::pair<std::string, Error>> failures;
  /// kOk when nothing failed; otherwise an error that counts and names the failures.
  Status status(std::string_view what) const;
};

/// Runs fn(i) for i in [0, n) on up to `jobs` threads. Every item runs (unless cancelled); every
/// failure is recorded under name(i). Stops starting new items once `cancel` fires.
BatchReport run_parallel(std::size_t n, std::size_t jobs, const CancellationToken& cancel,
                         const std::function<std::string(std::size_t)>& name,
                         const std::function<Status(std::size_t)>& fn);

}  // namespace omnio
