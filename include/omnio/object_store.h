// ObjectStore: the one interface over file://, direct://, s3://, az:// and gs://.
//
// Contracts every backend keeps (the conformance suite in tests/conformance proves them):
// - get_range(uri, offset, length): length absent -> to the end; a range running past the end
//   returns the bytes that exist; offset == size -> empty; offset > size -> kOutOfRange.
// - list(prefix, recursive): string-prefix semantics, sorted, full URIs in the store's scheme;
//   non-recursive also returns "directories" (common prefixes) ending in '/'.
// - put is atomic for readers: nobody ever sees a torn object.
// - exists() is false only on kNotFound; every other failure is an error.
// - Batch operations report every per-item failure.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "omnio/aligned_buffer.h"
#include "omnio/batch.h"
#include "omnio/bytes.h"
#include "omnio/cancel.h"
#include "omnio/range_engine.h"
#include "omnio/result.h"

namespace omnio {

/// What stat() returns.
struct ObjectMetadata {
  std::uint64_t size = 0;
  /// RFC 3339 UTC ("2026-11-25T01:02:03.123456789Z"); empty when unknown.
  std::string last_modified;
  std::string etag;
  std::string content_type;
  /// User metadata (x-amz-meta-*, x-ms-meta-*, GCS metadata; xattrs are not used on files).
  std::map<std::string, std::string> metadata;
  /// Backend-specific class ("STANDARD", "DIRECT_IO", ...); empty when unknown.
  std::string storage_class;
};

/// One result of a listing.
struct ListEntry {
  /// Full URI in the store's scheme; directories (common prefixes) end in '/'.
  std::string uri;
  /// Object size in bytes when the listing knows it (0 for directories).
  std::uint64_t size = 0;
  bool is_dir = false;
  /// false when a list_keys_stream() left the size out (size is then 0).
  bool size_known = true;
};

/// Receives the entries of a streamed listing one at a time, in listing order; an error stops the
/// listing and is what list_stream() returns.
using ListSink = std::function<Status(ListEntry&& entry)>;

/// Memory for a read whose size the store learns from the object itself (get_with_buffer): called
/// once with the object's size; returns a buffer of capacity >= that size, or null to let the
/// store allocate as get() does.
using BufferSource = std::function<Result<std::shared_ptr<AlignedBuffer>>(std::uint64_t size)>;

/// One object of ObjectStore::get_batch: read whole, as get_with_buffer(uri, buffer_for) would.
struct BatchRead {
  std::string uri;
  BufferSource buffer_for;
  /// The size the caller expects (e.g. the size of the previous object of a uniform data set);
  /// 0 = no idea. A store that reads before it knows the size asks `buffer_for` for this much
  /// first, and again with the true size if the object turns out larger.
  std::uint64_t size_hint = 0;
  /// Set by get_batch: the bytes, or this object's own error.
  Result<Bytes> result = Error(ErrorCode::kInternal, "not read");
};

/// Per-call options for reads.
struct ReadOptions {
  /// Stops the read early with kCancelled.
  CancellationToken cancel;
};

/// Per-call options for writes.
struct PutOptions {
  std::string content_type;
  std::map<std::string, std::string> metadata;
  CancellationToken cancel;
};

/// Options of a streaming writer.
struct WriterOptions {
  /// zstd-compress the stream at this level (kMinZstdLevel..kMaxZstdLevel); nullopt = no
  /// compression. With compression the object is named uri + ".zst" unless uri already ends in
  /// ".zst".
  std::optional<int> zstd_level;
  /// Network stores: multipart part size in bytes (nullopt = kDefaultPartSize).
  std::optional<std::size_t> part_size;
  PutOptions put;
};

/// Streaming writer: write() any number of times, then finalize() (or cancel()). Destroying a
/// writer that was not finalized cancels it: a partial object never becomes visible. One thread
/// at a time calls write(), finalize() and cancel() (write_at() excepted, see below); from
/// another thread, the token in WriterOptions::put ends the writer's waits for memory and its
/// requests in flight early (kCancelled), and the writing thread then cancels or drops it.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  /// Appends bytes. Fails after finalize() or cancel().
  virtual Status write(std::span<const std::byte> data) = 0;
  Status write(const Bytes& b) { return write(b.span()); }
  /// Makes the object visible. A second call is a no-op returning the first call's result.
  virtual Status finalize() = 0;
  /// Discards everything; the object is not created (an existing one is left untouched).
  virtual Status cancel() = 0;
  /// Uncompressed bytes accepted so far.
  virtual std::uint64_t bytes_written() const = 0;
  /// Bytes stored (== bytes_written() without compression).
  virtual std::uint64_t stored_bytes() const = 0;
  /// CRC32C (Castagnoli) of the uncompressed stream so far.
  virtual std::uint32_t crc32c() const = 0;
  /// The URI the object lands at (".zst" appended when compressing).
  virtual const std::string& uri() const = 0;
  /// "crc32c:%08x" of the uncompressed stream: the one checksum format used across omnio.
  std::string checksum() const;

  /// Positional writing, for destinations that can write anywhere (a local file without O_DIRECT
  /// or compression; ObjectStore::get_positional feeds it): write_at() places bytes at `offset`,
  /// from any thread and in any order (the same bytes may arrive twice); set_size() fixes the final
  /// length before finalize(). Not mixed with write(). An object written this way has no stream
  /// CRC (crc32c() stays 0). The defaults: unsupported (kUnimplemented).
  virtual bool supports_write_at() const { return false; }
  virtual Status write_at(std::uint64_t offset, std::span<const std::byte> data);
  virtual Status set_size(std::uint64_t size);
};

/// The storage interface. Implementations are thread-safe: one store serves many threads.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  /// The scheme this store serves ("file", "direct", ...).
  virtual std::string_view scheme() const = 0;

  /// Reads a whole object.
  virtual Result<Bytes> get(std::string_view uri, const ReadOptions& opts = {}) = 0;
  /// Reads [offset, offset+length) under the range rule in this header.
  virtual Result<Bytes> get_range(std::string_view uri, std::uint64_t offset,
                                  std::optional<std::uint64_t> length,
                                  const ReadOptions& opts = {}) = 0;
  /// Reads up to dest.size() bytes at `offset` into caller memory (no copy). Returns the count,
  /// which is less than dest.size() only when the object ends first. offset > size: kOutOfRange.
  virtual Result<std::uint64_t> get_into(std::string_view uri, std::uint64_t offset,
                                         std::span<std::byte> dest,
                                         const ReadOptions& opts = {}) = 0;
  /// get() into memory from `buffer_for`, asked once the store knows the size (file://: from the
  /// open file, so the caller needs no listing size or stat; network stores: from the first range,
  /// at most kBufferSourceProbeSize, read into memory the budget does not charge, and not asked
  /// when that range holds the whole object); the bytes returned keep that buffer alive. A buffer
  /// that does not fit (too small; misaligned for O_DIRECT) is not used. Every store of omnio's
  /// asks before it allocates budget-charged memory of its own, so a caller that hands out budget
  /// in an order of its own (the DataLoader's claim order) is never overtaken. The default (for
  /// stores of your own) is get(), `buffer_for` unused: such a store's allocation may wait for the
  /// budget out of that order.
  virtual Result<Bytes> get_with_buffer(std::string_view uri, const BufferSource& buffer_for,
                                        const ReadOptions& opts = {});
  /// Whether get_batch() costs less than one get_with_buffer() per object (file://: one io_uring
  /// submission opens, reads and closes a batch of small files). Callers that can group their
  /// reads (the DataLoader) batch only when this is true: the default get_batch() is sequential.
  virtual bool reads_in_batches() const { return false; }
  /// Reads every object of `reads` whole into its `result`, each as get_with_buffer() would; one
  /// object's failure is its own result and does not stop the others. `buffer_for` may be asked
  /// twice for an object (first for size_hint, then for the true size). Cancellation ends the
  /// unread objects with kCancelled. The default calls get_with_buffer() for each in turn.
  virtual void get_batch(std::span<BatchRead> reads, const ReadOptions& opts = {});
  /// Streams a whole object to `sink` in order with bounded memory (the CLI's get uses this).
  /// The default reads the object with get() and hands it over in one piece.
  virtual Status get_to_sink(std::string_view uri, const ChunkSink& sink,
                             const ReadOptions& opts = {});
  /// Reads a whole object, handing its bytes to `writer` at their offsets in any order, possibly
  /// from several threads at once: for destinations that can write anywhere (a file via pwrite, a
  /// discard), so no range buffers are held (S3 and Azure: bytes go from the connection straight
  /// to the writer). Returns the object size. A retried range may write the same bytes again; an
  /// object replaced during the read is read again from the start, and the size returned is the
  /// final version's (a file destination must be truncated to it). The default streams
  /// get_to_sink() in order.
  virtual Result<std::uint64_t> get_positional(std::string_view uri, const PositionalWriter& writer,
                                               const ReadOptions& opts = {});

  /// Writes a whole object atomically.
  virtual Status put(std::string_view uri, const Bytes& data, const PutOptions& opts = {}) = 0;
  /// High-throughput write of an in-memory object in parts (default: put).
  virtual Status put_multipart(std::string_view uri, const Bytes& data,
                               std::optional<std::size_t> part_size, const PutOptions& opts = {});
  /// A streaming writer for `uri`.
  virtual Result<std::unique_ptr<ObjectWriter>> create_writer(std::string_view uri,
                                                              const WriterOptions& opts = {}) = 0;

  /// Lists under a string prefix (see the contract above).
  virtual Result<std::vector<ListEntry>> list_entries(std::string_view prefix_uri,
                                                      bool recursive) = 0;
  /// The same entries in the same order as list_entries(), handed to `sink` as they arrive so
  /// memory does not grow with the listing: s3:// and az:// hold one page (1,000 / 5,000
  /// entries), file:// and direct:// one directory per level of the path being walked. The default
  /// (gs://) collects list_entries() first. `cancel` interrupts the listing, a page request in
  /// flight included: kCancelled.
  virtual Status list_stream(std::string_view prefix_uri, bool recursive, const ListSink& sink,
                             const CancellationToken& cancel = {});
  /// list_stream() for callers that need no sizes: a store that pays per entry for them (file://
  /// and direct://: a stat per file, ~3 us of system call on our VMs) leaves them out
  /// (ListEntry::size_known false). Same entries, same order. The default is list_stream().
  virtual Status list_keys_stream(std::string_view prefix_uri, bool recursive, const ListSink& sink,
                                  const CancellationToken& cancel = {});
  /// list_entries() reduced to URIs.
  Result<std::vector<std::string>> list(std::string_view prefix_uri, bool recursive);

  virtual Result<ObjectMetadata> stat(std::string_view uri) = 0;
  /// false only for kNotFound; other failures are errors.
  Result<bool> exists(std::string_view uri);

  /// Deletes one object. Deleting a missing object is kNotFound.
  virtual Status delete_object(std::string_view uri) = 0;
  /// Deletes every object under the prefix (string-prefix semantics); returns how many. If any
  /// delete fails the result is an error that counts and names the failures.
  virtual Result<std::uint64_t> delete_prefix(std::string_view prefix_uri);

  /// Deletes these objects (any order, bounded concurrency) and reports each failure; a missing
  /// object is a failure (kNotFound). The default deletes one at a time on
  /// kDefaultDeleteObjectsJobs threads; s3:// sends DeleteObjects batches of 1,000 keys.
  virtual BatchReport delete_objects(const std::vector<std::string>& uris,
                                     const CancellationToken& cancel = {});
  /// delete_prefix() with the outcome of every object (for "some deleted, some failed"): streams
  /// the listing and deletes it in pages of kDeletePageSize (memory does not grow with the
  /// count). file:// and direct:// also remove the directories the delete left empty.
  virtual Result<BatchReport> delete_prefix_report(std::string_view prefix_uri,
                                                   const CancellationToken& cancel = {});

  /// Creates a container (bucket, directory); succeeds if it already exists and is ours.
  /// `container_uri` is a URI ("s3://bucket", "file:///data/dir").
  virtual Status create_container(std::string_view container_uri) = 0;
  /// Deletes an empty container; kNotFound if missing.
  virtual Status delete_container(std::string_view container_uri) = 0;
  /// Container URIs ("s3://bucket") visible to the credentials; `root_uri` is the bare scheme
  /// ("s3://"). Default: kUnimplemented (local stores have no containers to list).
  virtual Result<std::vector<std::string>> list_containers(std::string_view root_uri);

  /// Copies an object (default: get then put).
  virtual Status copy(std::string_view src_uri, std::string_view dst_uri);
  /// Moves an object (default: copy then delete; local stores use rename(2)).
  virtual Status rename(std::string_view src_uri, std::string_view dst_uri);

 protected:
  /// list_entries() for stores that implement list_stream(): the streamed entries collected.
  Result<std::vector<ListEntry>> collect_list_stream(std::string_view prefix_uri, bool recursive);
  /// A listing's kCancelled error when `cancel` has fired (ok otherwise): implementations check it
  /// before each entry they hand on.
  static Status check_listing_cancel(std::string_view prefix_uri, const CancellationToken& cancel);
};

}  // namespace omnio
