// Local store: construction, path handling, and reads (simple, ranged, RangeEngine).
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "backends/file/file_store_impl.h"
#include "omnio/log.h"
#include "omnio/thread_pool.h"

namespace omnio {
namespace {

std::atomic<std::uint64_t> g_fallbacks{0};
std::atomic<bool> g_simulate_no_direct{false};
std::atomic<bool> g_warned{false};

std::size_t page_size() {
  long p = sysconf(_SC_PAGESIZE);
  return p > 0 ? static_cast<std::size_t>(p) : kDefaultDirectIoAlignment;
}

bool acceptable_alignment(std::size_t a) {
  return is_power_of_two(a) && a >= kMinDirectIoAlignment && a <= kMaxDirectIoAlignment;
}

Status cancelled_check(const ReadOptions& opts, std::string_view uri) {
  if (opts.cancel.is_cancelled()) {
    return Error(ErrorCode::kCancelled, fmt::format("read {}: cancelled", uri));
  }
  return ok_status();
}

}  // namespace

std::size_t detect_direct_io_alignment(const std::string& dir) {
  struct stat st {};
  std::string probe = dir;
  // Walk up to an existing directory.
  while (!probe.empty() && ::stat(probe.c_str(), &st) != 0) {
    auto slash = probe.find_last_of('/');
    probe = slash == 0 || slash == std::string::npos ? "/" : probe.substr(0, slash);
    if (probe == "/") {
      ::stat("/", &st);
      break;
    }
  }
  std::size_t lbs = 0;
  for (const char* rel : {"queue/logical_block_size", "../queue/logical_block_size"}) {
    std::ifstream f(
        fmt::format("/sys/dev/block/{}:{}/{}", major(st.st_dev), minor(st.st_dev), rel));
    if (f >> lbs) break;
    lbs = 0;
  }
  if (acceptable_alignment(lbs)) return lbs;
  std::size_t p = page_size();
  return acceptable_alignment(p) ? p : kDefaultDirectIoAlignment;
}

std::uint64_t direct_io_fallback_count() { return g_fallbacks.load(); }

void testing::simulate_no_direct_io(bool on) { g_simulate_no_direct.store(on); }

Result<std::shared_ptr<ObjectStore>> make_file_store(const FileSystemConfig& config,
                                                     bool direct_scheme) {
  OMNIO_TRY(config.validate());
  std::size_t align =
      config.alignment ? *config.alignment : detect_direct_io_alignment(config.root);
  return std::shared_ptr<ObjectStore>(
      std::make_shared<fs::LocalStore>(config, direct_scheme, align));
}

FileStoreStats file_store_stats(const ObjectStore& store) {
  if (const auto* s = dynamic_cast<const fs::LocalStore*>(&store)) return s->stats();
  return {};
}

namespace fs {

bool testing_no_direct() { return g_simulate_no_direct.load(); }

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::size_t> pread_full(int fd, std::byte* buf, std::size_t n, std::uint64_t off) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, buf + done, n - done, static_cast<off_t>(off + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, fmt::format("pread {} bytes at offset {}", n - done, off + done));
    }
    if (r == 0) break;  // end of file
    done += static_cast<std::size_t>(r);
  }
  return done;
}

Status pwrite_full(int fd, const std::byte* buf, std::size_t n, std::uint64_t off) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::pwrite(fd, buf + done, n - done, static_cast<off_t>(off + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, fmt::format("pwrite {} bytes at offset {}", n - done, off + done));
    }
    done += static_cast<std::size_t>(r);
  }
  return ok_status();
}

Status pwrite_blocks(int fd, const std::byte* buf, std::size_t n, std::uint64_t off,
                     std::size_t block) {
  block = std::max<std::size_t>(block, 1);
  for (std::size_t done = 0; done < n;) {
    const std::size_t k = std::min(block, n - done);
    OMNIO_TRY(pwrite_full(fd, buf + done, k, off + done));
    done += k;
  }
  return ok_status();
}

Status make_parents(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return ok_status();
  std::string dir = path.substr(0, slash);
  for (std::size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      std::string part = dir.substr(0, i);
      if (::mkdir(part.c_str(), 0777) != 0 && errno != EEXIST) {
        return errno_error(errno, fmt::format("mkdir {}", part));
      }
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error(ErrorCode::kInvalidArgument, fmt::format("{} is not a directory", dir));
  }
  return ok_status();
}

std::string rfc3339(const struct timespec& ts) {
  struct tm tm {};
  gmtime_r(&ts.tv_sec, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

LocalStore::LocalStore(FileSystemConfig cfg, bool direct_scheme, std::size_t alignment)
    : cfg_(std::move(cfg)),
      direct_scheme_(direct_scheme),
      align_(alignment),
      buf_align_(std::max(alignment, page_size())),
      min_io_(cfg_.min_io_size ? *cfg_.min_io_size : alignment),
      root_(cfg_.root) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

FileStoreStats LocalStore::stats() const {
  return {engine_gets_.load(),    simple_gets_.load(),   direct_reads_.load(),
          buffered_reads_.load(), batched_reads_.load(), batch_rereads_.load()};
}

Result<std::string> LocalStore::path_of(std::string_view uri, bool allow_dir) const {
  OMNIO_ASSIGN_OR_RETURN(Uri u, Uri::parse(uri));
  if (!u.is_local()) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{} is not a local URI; this store serves {}:// (file:///abs/path)",
                             uri, scheme()));
  }
  std::string p = u.path;
  if (!allow_dir && p.size() > 1 && p.back() == '/') {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{} names a directory (ends in '/'); expected an object path", uri));
  }
  if (root_ != "/" &&
      !(p == root_ || (p.size() > root_.size() && p.compare(0, root_.size(), root_) == 0 &&
                       p[root_.size()] == '/'))) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{} is outside this store's root {}", uri, root_));
  }
  return p;
}

std::string LocalStore::uri_of(const std::string& path) const {
  return fmt::format("{}://{}", scheme(), path);
}

void LocalStore::note_fallback(const std::string& path) {
  g_fallbacks.fetch_add(1);
  if (!g_warned.exchange(true)) {
    log::warn(
        "O_DIRECT is not supported for {} (EINVAL); using buffered I/O for such files "
        "(counted in direct_io_fallback_count(); set allow_buffered_fallback=false to fail)",
        path);
  }
}

Result<LocalStore::ReadFile> LocalStore::open_for_read(const std::string& path,
                                                       std::string_view uri,
                                                       std::uint64_t from_start) {
  ReadFile f;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errno_error(errno, fmt::format("open {}", uri));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_error(errno, fmt::format("stat {}", uri));
  if (S_ISDIR(st.st_mode)) {
    return Error(ErrorCode::kNotFound, fmt::format("{} is a directory, not an object", uri));
  }
  f.size = static_cast<std::uint64_t>(st.st_size);
  if (cfg_.use_direct_io && f.size >= min_io_) {
    int dfd =
        g_simulate_no_direct.load() ? -1 : ::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (g_simulate_no_direct.load()) errno = EINVAL;
    if (dfd >= 0) {
      f.fd = Fd(dfd);
      f.direct = true;
      direct_reads_.fetch_add(1);
      return f;
    }
    if (errno != EINVAL) return errno_error(errno, fmt::format("open {} with O_DIRECT", uri));
    if (!cfg_.allow_buffered_fallback) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("open {}: the file system does not support O_DIRECT (EINVAL) and "
                               "allow_buffered_fallback is off",
                               uri));
    }
    note_fallback(path);
  }
  buffered_reads_.fetch_add(1);
  {
    int advice = POSIX_FADV_NORMAL;
    switch (cfg_.page_cache_mode) {
      case PageCacheMode::kAuto:
        advice =
            f.size >= kPageCacheAutoSequentialThreshold ? POSIX_FADV_SEQUENTIAL : POSIX_FADV_RANDOM;
        break;
      case PageCacheMode::kSequential:
        advice = POSIX_FADV_SEQUENTIAL;
        break;
      case PageCacheMode::kRandom:
        advice = POSIX_FADV_RANDOM;
        break;
      case PageCacheMode::kDontNeed:
      case PageCacheMode::kNormal:
        advice = POSIX_FADV_NORMAL;
        break;
    }
    // NORMAL is where a fresh descriptor starts; one pread of a whole small file reads the same
    // pages whatever the advice says.
    const bool one_read = f.size <= cfg_.io_block_size && from_start >= f.size;
    if (advice != POSIX_FADV_NORMAL && !one_read) {
      (void)::posix_fadvise(fd.get(), 0, 0, advice);  // a hint: failure changes nothing
    }
  }
  f.fd = std::move(fd);
  return f;
}

RangeReadFn LocalStore::range_reader(int fd) {
  const std::size_t a = align_;
  // A range is a scheduling unit; each system call moves at most io_block_size bytes (large
  // O_DIRECT requests are split by the block layer anyway, and measured slower here).
  const std::size_t block = align_up(std::max<std::size_t>(cfg_.io_block_size, a), a);
  return [fd, a, block](std::uint64_t off, std::span<std::byte> dest,
                        const CancellationToken& cancel, std::function<void(Status)> done) {
    ThreadPool::io().submit([=, done = std::move(done)] {
      std::size_t got = 0;
      while (got < dest.size()) {
        if (cancel.is_cancelled()) return done(Error(ErrorCode::kCancelled, "cancelled"));
        // O_DIRECT needs an aligned length; the destination's capacity (aligned up by the caller)
        // has room for the last range's rounding, and EOF stops the read at the true end.
        const std::size_t want = std::min(block, dest.size() - got);
        auto n = pread_full(fd, dest.data() + got, align_up(want, a), off + got);
        if (!n.ok()) return done(std::move(n).error());
        if (*n < want) {
          return done(Error(
              ErrorCode::kDataLoss,
              fmt::format("short read: {} of {} bytes (file truncated?)", got + *n, dest.size())));
        }
        got += want;
      }
      done(ok_status());
    });
  };
}

Result<Bytes> LocalStore::get(std::string_view uri, const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(std::string path, path_of(uri));
  OMNIO_ASSIGN_OR_RETURN(ReadFile f, open_for_read(path, uri, kWholeFile));
  return read_into_own(f, uri, opts);
}

Result<Bytes> LocalStore::read_into_own(ReadFile& f, std::string_view uri,
                                        const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(AlignedBuffer buf,
                         AlignedBuffer::allocate(f.size, buf_align_, opts.cancel));
  OMNIO_TRY(read_whole(f, uri, std::span(buf.data(), buf.capacity()), opts));
  return Bytes::from_aligned(std::move(buf));
}

Result<Bytes> LocalStore::get_with_buffer(std::string_view uri, const BufferSource& buffer_for,
                                          const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(std::string path, path_of(uri));
  OMNIO_ASSIGN_OR_RETURN(ReadFile f, open_for_read(path, uri, kWholeFile));
  OMNIO_ASSIGN_OR_RETURN(std::shared_ptr<AlignedBuffer> mem, buffer_for(f.size));
  // O_DIRECT writes whole aligned blocks into the buffer, from an aligned address.
  const std::uint64_t need = f.direct ? align_up(f.size, align_) : f.size;
  const bool fits = mem && mem->capacity() >= need &&
                    (!f.direct || reinterpret_cast<std::uintptr_t>(mem->data()) % buf_align_ == 0);
  if (!fits) return read_into_own(f, uri, opts);
  OMNIO_TRY(read_whole(f, uri, std::span(mem->data(), mem->capacity()), opts));
  mem->resize(static_cast<std::size_t>(f.size));
  const std::byte* data = mem->data();
  return Bytes::from_shared(std::move(mem), data, static_cast<std::size_t>(f.size));
}

Status LocalStore::read_whole(ReadFile& f, std::string_view uri, std::span<std::byte> dest,
                              const ReadOptions& opts) {
  if (cfg_.enable_range_engine && f.size >= cfg_.range_engine.min_split_size && f.size > 0) {
    return read_with_range_engine(f, uri, dest, opts);
  }
  return read_simple(f, uri, dest, opts);
}

Status LocalStore::read_simple(ReadFile& f, std::string_view uri, std::span<std::byte> dest,
                               const ReadOptions& opts) {
  simple_gets_.fetch_add(1);
  const std::size_t block = align_up(std::max<std::size_t>(cfg_.io_block_size, align_), align_);
  std::uint64_t off = 0;
  while (off < f.size) {
    OMNIO_TRY(cancelled_check(opts, uri));
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(block, f.size - off));
    const std::size_t ask = f.direct ? align_up(want, align_) : want;
    auto n = pread_full(f.fd.get(), dest.data() + off, ask, off);
    if (!n.ok()) return std::move(n).error().wrap(fmt::format("read {}", uri));
    if (*n < want) {
      return Error(ErrorCode::kDataLoss,
                   fmt::format("read {}: file ended at {} bytes, {} expected (truncated while "
                               "reading?)",
                               uri, off + *n, f.size));
    }
    off += want;
  }
  if (cfg_.page_cache_mode == PageCacheMode::kDontNeed) {
    (void)::posix_fadvise(f.fd.get(), 0, 0, POSIX_FADV_DONTNEED);
  }
  return ok_status();
}

Status LocalStore::read_with_range_engine(ReadFile& f, std::string_view uri,
                                          std::span<std::byte> dest, const ReadOptions& opts) {
  engine_gets_.fetch_add(1);
  RangeEngineConfig rc = cfg_.range_engine;
  if (f.direct) rc.chunk_size = align_up(rc.chunk_size, align_);
  RangeEngine engine(rc);
  auto st = engine.download_into(f.size, dest.first(static_cast<std::size_t>(f.size)),
                                 range_reader(f.fd.get()), opts.cancel);
  if (!st.ok()) return std::move(st).error().wrap(fmt::format("get {}", uri));
  return ok_status();
}

Status LocalStore::get_to_sink(std::string_view uri, const ChunkSink& sink,
                               const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(std::string path, path_of(uri));
  OMNIO_ASSIGN_OR_RETURN(ReadFile f, open_for_read(path, uri, kWholeFile));
  const std::size_t balign = buf_align_;
  auto alloc = [balign](std::size_t n, MemoryReservation r) {
    return AlignedBuffer::allocate(n, balign, std::move(r));
  };
  if (cfg_.enable_range_engine && f.size >= cfg_.range_engine.min_split_size && f.size > 0) {
    engine_gets_.fetch_add(1);
    RangeEngineConfig rc = cfg_.range_engine;
    if (f.direct) rc.chunk_size = align_up(rc.chunk_size, align_);
    auto st = RangeEngine(rc).download_to_sink(f.size, range_reader(f.fd.get()), sink, alloc,
                                               opts.cancel);
    if (!st.ok()) return std::move(st).error().wrap(fmt::format("get {}", uri));
    return ok_status();
  }
  // Sequential: one block in flight, the buffer reused when the sink does not keep it.
  simple_gets_.fetch_add(1);
  const std::size_t block = align_up(std::max<std::size_t>(cfg_.io_block_size, align_), align_);
  // A file smaller than a block gets a buffer of its own size: a whole block for every small file
  // was an mmap, page faults and an munmap (a TLB shootdown in a threaded process) per file, which
  // made `get --discard` of 4 KiB files cost ~35 us of system time each.
  const std::size_t cap =
      static_cast<std::size_t>(std::min<std::uint64_t>(block, align_up(f.size, align_)));
  std::shared_ptr<AlignedBuffer> buf;
  std::uint64_t off = 0;
  while (off < f.size) {
    OMNIO_TRY(cancelled_check(opts, uri));
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(block, f.size - off));
    if (!buf || buf.use_count() > 1) {
      OMNIO_ASSIGN_OR_RETURN(AlignedBuffer b, AlignedBuffer::allocate(cap, balign, opts.cancel));
      buf = std::make_shared<AlignedBuffer>(std::move(b));
    }
    const std::size_t ask = f.direct ? align_up(want, align_) : want;
    auto n = pread_full(f.fd.get(), buf->data(), ask, off);
    if (!n.ok()) return std::move(n).error().wrap(fmt::format("read {}", uri));
    if (*n < want) {
      return Error(ErrorCode::kDataLoss, fmt::format("read {}: file ended at {} bytes, {} expected",
                                                     uri, off + *n, f.size));
    }
    OMNIO_TRY(sink(off, Bytes::from_shared(buf, buf->data(), want)));
    off += want;
  }
  return ok_status();
}

Result<Bytes> LocalStore::get_range(std::string_view uri, std::uint64_t offset,
                                    std::optional<std::uint64_t> length, const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(std::string path, path_of(uri));
  OMNIO_ASSIGN_OR_RETURN(ReadFile f, open_for_read(path, uri));
  if (offset > f.size) {
    return Error(ErrorCode::kOutOfRange,
                 fmt::format("get_range {}: offset {} is beyond the object's {} bytes", uri, offset,
                             f.size));
  }
  const std::uint64_t n =
      std::min<std::uint64_t>(length.value_or(f.size - offset), f.size - offset);
  if (n == 0) return Bytes();
  OMNIO_TRY(cancelled_check(opts, uri));
  const std::uint64_t start = f.direct ? align_down(offset, align_) : offset;
  const std::uint64_t end = f.direct ? align_up(offset + n, align_) : offset + n;
  OMNIO_ASSIGN_OR_RETURN(
      AlignedBuffer buf,
      AlignedBuffer::allocate(static_cast<std::size_t>(end - start), buf_align_, opts.cancel));
  auto got = pread_full(f.fd.get(), buf.data(), buf.size(), start);
  if (!got.ok()) return std::move(got).error().wrap(fmt::format("get_range {}", uri));
  if (*got < offset + n - start) {
    return Error(ErrorCode::kDataLoss,
                 fmt::format("get_range {}: file ended at {} bytes, {} expected", uri, start + *got,
                             offset + n));
  }
  // The exact sub-range of the aligned read, without a copy.
  return Bytes::from_aligned(std::move(buf))
      .slice(static_cast<std::size_t>(offset - start), static_cast<std::size_t>(n));
}

Result<std::uint64_t> LocalStore::get_into(std::string_view uri, std::uint64_t offset,
                                           std::span<std::byte> dest, const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(std::string path, path_of(uri));
  OMNIO_ASSIGN_OR_RETURN(ReadFile f, open_for_read(path, uri, offset == 0 ? dest.size() : 0));
  if (offset > f.size) {
    return Error(
        ErrorCode::kOutOfRange,
        fmt::format("get_into {}: offset {} is beyond the object's {} bytes", uri, offset, f.size));
  }
  const std::uint64_t n = std::min<std::uint64_t>(dest.size(), f.size - offset);
  auto short_read = [&](std::uint64_t at) {
    return Error(
        ErrorCode::kDataLoss,
        fmt::format("get_into {}: file ended at {} bytes, {} expected", uri, at, offset + n));
  };
  if (!f.direct) {
    auto got = pread_full(f.fd.get(), dest.data(), static_cast<std::size_t>(n), offset);
    if (!got.ok()) return std::move(got).error().wrap(fmt::format("get_into {}", uri));
    if (*got < n) return short_read(offset + *got);
    return n;
  }
  std::uint64_t done = 0;
  // Caller memory and offset aligned: O_DIRECT straight into it for the aligned body.
  if (reinterpret_cast<std::uintptr_t>(dest.data()) % align_ == 0 && offset % align_ == 0) {
    const std::size_t body = align_down(static_cast<std::size_t>(n), align_);
    auto got = pread_full(f.fd.get(), dest.data(), body, offset);
    if (!got.ok()) return std::move(got).error().wrap(fmt::format("get_into {}", uri));
    if (*got < body) return short_read(offset + *got);
    done = body;
  }
  // The rest through an aligned bounce buffer, one block at a time.
  if (done < n) {
    const std::size_t block = align_up(std::max<std::size_t>(cfg_.io_block_size, align_), align_);
    const std::size_t cap = static_cast<std::size_t>(std::min<std::uint64_t>(
        block, align_up(static_cast<std::size_t>(n - done), align_) + align_));
    OMNIO_ASSIGN_OR_RETURN(AlignedBuffer bounce,
                           AlignedBuffer::allocate(cap, buf_align_, opts.cancel));
    while (done < n) {
      OMNIO_TRY(cancelled_check(opts, uri));
      const std::uint64_t pos = offset + done;
      const std::uint64_t start = align_down(pos, align_);
      const std::size_t skip = static_cast<std::size_t>(pos - start);
      const std::size_t take =
          static_cast<std::size_t>(std::min<std::uint64_t>(cap - skip, n - done));
      const std::size_t ask = align_up(skip + take, align_);
      auto got = pread_full(f.fd.get(), bounce.data(), ask, start);
      if (!got.ok()) return std::move(got).error().wrap(fmt::format("get_into {}", uri));
      if (*got < skip + take) return short_read(start + *got);
      std::memcpy(dest.data() + done, bounce.data() + skip, take);
      done += take;
    }
  }
  return n;
}

}  // namespace fs
}  // namespace omnio
