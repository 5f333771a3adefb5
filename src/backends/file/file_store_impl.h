// The local store class, shared by file_store.cc (reads), file_write.cc (writes) and
// file_namespace.cc (listing, deletes, containers).
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "backends/file/file_store.h"
#include "omnio/aligned_buffer.h"
#include "omnio/uri.h"

struct io_uring;

namespace omnio::fs {

/// An open file descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  ~Fd();
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

/// Reads exactly n bytes at off (looping over short reads and EINTR). Returns the bytes read,
/// which is less than n only at end of file.
Result<std::size_t> pread_full(int fd, std::byte* buf, std::size_t n, std::uint64_t off);
/// Writes all n bytes at off.
Status pwrite_full(int fd, const std::byte* buf, std::size_t n, std::uint64_t off);
// pwrite_full in pieces of at most `block` bytes, for buffered (page-cache) writes. Writing 10 x 1
// GiB into the page cache in 8 MiB pwrite(2)s cost 2-2.5x the system time of 1 MiB ones on this
// VM (fio --bs=8m vs --bs=1m: 14-16 s vs 5.7-6.5 s; omnio put before/after this change: 12.8-19.9
// vs 6.2-9.2 s of system time; kernel 6.18, ext4) — probably larger page-cache folios taken from
// memory the balloon driver had returned to the host (docs/BENCHMARKS.md).
Status pwrite_blocks(int fd, const std::byte* buf, std::size_t n, std::uint64_t off,
                     std::size_t block);
/// mkdir -p of the parent directory of `path`.
Status make_parents(const std::string& path);
/// True while testing::simulate_no_direct_io is on.
bool testing_no_direct();
/// RFC 3339 UTC with nanoseconds.
std::string rfc3339(const struct timespec& ts);

class LocalStore final : public ObjectStore {
 public:
  LocalStore(FileSystemConfig cfg, bool direct_scheme, std::size_t alignment);

  std::string_view scheme() const override { return direct_scheme_ ? "direct" : "file"; }
  Result<Bytes> get(std::string_view uri, const ReadOptions& opts) override;
  Result<Bytes> get_range(std::string_view uri, std::uint64_t offset,
                          std::optional<std::uint64_t> length, const ReadOptions& opts) override;
  Result<std::uint64_t> get_into(std::string_view uri, std::uint64_t offset,
                                 std::span<std::byte> dest, const ReadOptions& opts) override;
  Status get_to_sink(std::string_view uri, const ChunkSink& sink, const ReadOptions& opts) override;
  Result<Bytes> get_with_buffer(std::string_view uri, const BufferSource& buffer_for,
                                const ReadOptions& opts) override;
  /// Buffered stores (not O_DIRECT, not PageCacheMode::kDontNeed) batch through io_uring
  /// (file_batch.cc); where the kernel refuses io_uring, get_batch reads one file at a time.
  bool reads_in_batches() const override;
  void get_batch(std::span<BatchRead> reads, const ReadOptions& opts) override;
  Status put(std::string_view uri, const Bytes& data, const PutOptions& opts) override;
  Status put_multipart(std::string_view uri, const Bytes& data,
                       std::optional<std::size_t> part_size, const PutOptions& opts) override;
  Result<std::unique_ptr<ObjectWriter>> create_writer(std::string_view uri,
                                                      const WriterOptions& opts) override;
  Result<std::vector<ListEntry>> list_entries(std::string_view prefix_uri, bool recursive) override;
  Status list_stream(std::string_view prefix_uri, bool recursive, const ListSink& sink,
                     const CancellationToken& cancel = {}) override;
  Status list_keys_stream(std::string_view prefix_uri, bool recursive, const ListSink& sink,
                          const CancellationToken& cancel = {}) override;
  Result<ObjectMetadata> stat(std::string_view uri) override;
  Status delete_object(std::string_view uri) override;
  Result<std::uint64_t> delete_prefix(std::string_view prefix_uri) override;
  Result<BatchReport> delete_prefix_report(std::string_view prefix_uri,
                                           const CancellationToken& cancel) override;
  Status create_container(std::string_view container_uri) override;
  Status delete_container(std::string_view container_uri) override;
  Status copy(std::string_view src_uri, std::string_view dst_uri) override;
  Status rename(std::string_view src_uri, std::string_view dst_uri) override;

  const FileSystemConfig& config() const { return cfg_; }
  std::size_t alignment() const { return align_; }
  /// Memory alignment of buffers: at least the page size.
  std::size_t buffer_alignment() const { return buf_align_; }
  std::size_t min_io_size() const { return min_io_; }
  bool direct() const { return cfg_.use_direct_io; }
  FileStoreStats stats() const;

  /// The local path of a URI (either local scheme), confined to the root. `allow_dir` keeps a
  /// trailing '/'.
  Result<std::string> path_of(std::string_view uri, bool allow_dir = false) const;
  /// The URI of a path in this store's scheme.
  std::string uri_of(const std::string& path) const;

  /// An open file for reading with its size; `direct` tells whether O_DIRECT is on.
  struct ReadFile {
    Fd fd;
    std::uint64_t size = 0;
    bool direct = false;
  };
  /// `from_start`: how many bytes from offset 0 the caller reads (kWholeFile: all; 0: a range
  /// elsewhere). A file of at most one I/O block that is read whole takes one pread, which no
  /// readahead advice changes: it gets none (a posix_fadvise per small object was ~4 % of the
  /// CPU of reading 128 KiB files).
  static constexpr std::uint64_t kWholeFile = ~std::uint64_t{0};
  Result<ReadFile> open_for_read(const std::string& path, std::string_view uri,
                                 std::uint64_t from_start = 0);
  /// Opens `path` for writing with O_DIRECT when configured; returns an invalid Fd if the file
  /// system refused O_DIRECT and fallback is allowed.
  Result<Fd> open_direct_for_write(const std::string& path);

 private:
  /// Reads the whole of `f` into `dest` (capacity >= f.size, rounded up to the alignment under
  /// O_DIRECT): with the RangeEngine when configured and the file is large enough, else in blocks.
  Status read_whole(ReadFile& f, std::string_view uri, std::span<std::byte> dest,
                    const ReadOptions& opts);
  Status read_simple(ReadFile& f, std::string_view uri, std::span<std::byte> dest,
                     const ReadOptions& opts);
  Status read_with_range_engine(ReadFile& f, std::string_view uri, std::span<std::byte> dest,
                                const ReadOptions& opts);
  /// Lists with sizes, or (list_keys_stream) without the stat a size costs.
  Status list_local(std::string_view prefix_uri, bool recursive, bool sizes, const ListSink& sink,
                    const CancellationToken& cancel);
  /// read_whole() into a fresh buffer of the store's own.
  Result<Bytes> read_into_own(ReadFile& f, std::string_view uri, const ReadOptions& opts);
  RangeReadFn range_reader(int fd);
  void note_fallback(const std::string& path);
  /// Up to kFileBatchReadMax reads of get_batch, in one submission to `ring`. Returns why when
  /// the kernel refused the submission before taking any of it (nothing read; the ring is
  /// unusable).
  std::optional<std::string> batch_chunk(io_uring& ring, std::span<BatchRead> reads,
                                         const ReadOptions& opts);

  FileSystemConfig cfg_;
  bool direct_scheme_;
  std::size_t align_;
  std::size_t buf_align_;
  std::size_t min_io_;
  std::string root_;
  std::atomic<std::uint64_t> engine_gets_{0}, simple_gets_{0}, direct_reads_{0}, buffered_reads_{0},
      batched_reads_{0}, batch_rereads_{0};
};

}  // namespace omnio::fs
