// Local store writes: atomic put (temp file + rename), O_DIRECT aligned body with the unaligned
// tail through a buffered descriptor (the file gets exactly the right length, never padding), and
// the streaming writer's sink.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "backends/file/file_store_impl.h"
#include "core/stream_writer.h"

namespace omnio::fs {
namespace {

mode_t file_mode() {
  // mkstemp creates 0600; published objects get 0666 & ~umask like any created file.
  static const mode_t mode = [] {
    mode_t m = ::umask(0);
    ::umask(m);
    return static_cast<mode_t>(0666 & ~m);
  }();
  return mode;
}

// A temporary file next to the target, hidden from listings: ".<name>.omnio-tmp.XXXXXX".
Result<std::pair<std::string, Fd>> make_temp(const std::string& path, bool sync) {
  OMNIO_TRY(make_parents(path));
  auto slash = path.find_last_of('/');
  std::string tmpl = path.substr(0, slash + 1) + "." + path.substr(slash + 1) + ".omnio-tmp.XXXXXX";
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC | (sync ? O_DSYNC : 0));
  if (fd < 0) return errno_error(errno, fmt::format("create temporary file for {}", path));
  ::fchmod(fd, file_mode());
  return std::pair<std::string, Fd>(std::move(tmpl), Fd(fd));
}

}  // namespace

Result<Fd> LocalStore::open_direct_for_write(const std::string& path) {
  int fd = -1;
  if (!cfg_.use_direct_io) return Fd();
  if (!testing_no_direct()) {
    fd = ::open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC | (cfg_.sync_writes ? O_DSYNC : 0));
  } else {
    errno = EINVAL;
  }
  if (fd >= 0) return Fd(fd);
  if (errno != EINVAL) return errno_error(errno, fmt::format("open {} with O_DIRECT", path));
  if (!cfg_.allow_buffered_fallback) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("open {}: the file system does not support O_DIRECT (EINVAL) and "
                             "allow_buffered_fallback is off",
                             path));
  }
  note_fallback(path);
  return Fd();
}

// Writes `data` at `off` of a file open twice: `dfd` with O_DIRECT (may be invalid) and `bfd`
// buffered. Aligned blocks go through dfd; aligned source memory is written without a copy,
// otherwise through `staging`. Returns the bytes written through dfd; the caller writes the rest
// (the unaligned tail) through bfd.
static Result<std::size_t> write_aligned_body(int dfd, std::span<const std::byte> data,
                                              std::uint64_t off, std::size_t align,
                                              std::size_t block, AlignedBuffer* staging) {
  const std::size_t body = align_down(data.size(), align);
  if (dfd < 0 || body == 0 || off % align != 0) return std::size_t{0};
  const bool src_aligned = reinterpret_cast<std::uintptr_t>(data.data()) % align == 0;
  std::size_t done = 0;
  while (done < body) {
    const std::size_t n = std::min(block, body - done);
    const std::byte* src = data.data() + done;
    if (!src_aligned) {
      std::memcpy(staging->data(), src, n);
      src = staging->data();
    }
    OMNIO_TRY(pwrite_full(dfd, src, n, off + done));
    done += n;
  }
  return done;
}

Status LocalStore::put(std::string_view uri, const Bytes& data, const PutOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(std::string path, path_of(uri));
  if (opts.cancel.is_cancelled())
    return Error(ErrorCode::kCancelled, fmt::format("put {}: cancelled", uri));
  OMNIO_ASSIGN_OR_RETURN(auto tmp, make_temp(path, cfg_.sync_writes));
  auto& [tmp_path, bfd] = tmp;
  auto fail = [&](Error e) -> Status {
    ::unlink(tmp_path.c_str());
    return e.wrap(fmt::format("put {}", uri));
  };
  std::size_t done = 0;
  if (cfg_.use_direct_io && data.size() >= min_io_) {
    auto dfd = open_direct_for_write(tmp_path);
    if (!dfd.ok()) return fail(std::move(dfd).error());
    const std::size_t block = align_up(std::max(cfg_.io_block_size, align_), align_);
    AlignedBuffer staging;
    if (dfd->get() >= 0 && reinterpret_cast<std::uintptr_t>(data.data()) % align_ != 0) {
      auto b = AlignedBuffer::allocate(block, buf_align_, opts.cancel);
      if (!b.ok()) return fail(std::move(b).error());
      staging = std::move(*b);
    }
    auto body = write_aligned_body(dfd->get(), data.span(), 0, align_, block, &staging);
    if (!body.ok()) return fail(std::move(body).error());
    done = *body;
  }
  if (Status s = pwrite_blocks(bfd.get(), data.data() + done, data.size() - done, done,
                               cfg_.io_block_size);
      !s.ok()) {
    return fail(std::move(s).error());
  }
  if (cfg_.sync_writes && ::fsync(bfd.get()) != 0) return fail(errno_error(errno, "fsync"));
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) {
    return fail(errno_error(errno, fmt::format("rename into place")));
  }
  return ok_status();
}

Status LocalStore::put_multipart(std::string_view uri, const Bytes& data,
                                 std::optional<std::size_t> /*part_size*/, const PutOptions& opts) {
  // Parts are only a chunking hint locally: put already writes in io_block_size blocks, and the
  // part size can never put padding in the middle of the file.
  return put(uri, data, opts);
}

namespace {

// Streams into a temp file; aligned blocks with O_DIRECT from an aligned staging buffer, the tail
// at commit through the buffered descriptor; commit renames into place.
class LocalSink final : public RawSink {
 public:
  LocalSink(LocalStore* store, std::string path, std::string tmp, Fd bfd, Fd dfd,
            AlignedBuffer staging)
      : store_(store),
        path_(std::move(path)),
        tmp_(std::move(tmp)),
        bfd_(std::move(bfd)),
        dfd_(std::move(dfd)),
        staging_(std::move(staging)) {}
  ~LocalSink() override {
    if (!done_) ::unlink(tmp_.c_str());
  }

  Status append(std::span<const std::byte> data) override {
    if (!dfd_) {  // buffered: straight to the file
      OMNIO_TRY(pwrite_blocks(bfd_.get(), data.data(), data.size(), off_,
                              store_->config().io_block_size));
      off_ += data.size();
      return ok_status();
    }
    if (fill_ == 0 &&
        reinterpret_cast<std::uintptr_t>(data.data()) % store_->buffer_alignment() == 0) {
      // Aligned caller memory at an aligned file offset: write its aligned body straight through
      // O_DIRECT; only the unaligned rest goes through the staging buffer.
      const std::size_t body = align_down(data.size(), store_->alignment());
      if (body > 0) {
        OMNIO_TRY(pwrite_full(dfd_.get(), data.data(), body, off_));
        off_ += body;
        data = data.subspan(body);
      }
    }
    while (!data.empty()) {
      const std::size_t n = std::min(data.size(), staging_.capacity() - fill_);
      std::memcpy(staging_.data() + fill_, data.data(), n);
      fill_ += n;
      data = data.subspan(n);
      if (fill_ == staging_.capacity()) OMNIO_TRY(flush_staging());
    }
    return ok_status();
  }

  Status commit() override {
    if (dfd_ && fill_ > 0) {
      const std::size_t body = align_down(fill_, store_->alignment());
      if (body > 0) OMNIO_TRY(pwrite_full(dfd_.get(), staging_.data(), body, off_));
      OMNIO_TRY(pwrite_full(bfd_.get(), staging_.data() + body, fill_ - body, off_ + body));
      off_ += fill_;
      fill_ = 0;
    }
    if (store_->config().sync_writes && ::fsync(bfd_.get()) != 0) {
      return errno_error(errno, fmt::format("fsync {}", tmp_));
    }
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
      return errno_error(errno, fmt::format("rename {} into place", tmp_));
    }
    done_ = true;
    return ok_status();
  }

  // Buffered files can be written anywhere; O_DIRECT ones stream through the staging buffer.
  bool positional() const override { return !dfd_; }

  Status write_at(std::uint64_t offset, std::span<const std::byte> data) override {
    return pwrite_blocks(bfd_.get(), data.data(), data.size(), offset,
                         store_->config().io_block_size);
  }

  Status set_size(std::uint64_t size) override {
    if (::ftruncate(bfd_.get(), static_cast<off_t>(size)) != 0) {
      return errno_error(errno, fmt::format("truncate {} to {} bytes", tmp_, size));
    }
    off_ = size;
    return ok_status();
  }

  Status abort() override {
    done_ = true;
    if (::unlink(tmp_.c_str()) != 0 && errno != ENOENT) {
      return errno_error(errno, fmt::format("remove {}", tmp_));
    }
    return ok_status();
  }

 private:
  Status flush_staging() {
    OMNIO_TRY(pwrite_full(dfd_.get(), staging_.data(), fill_, off_));
    off_ += fill_;
    fill_ = 0;
    return ok_status();
  }

  LocalStore* store_;
  std::string path_, tmp_;
  Fd bfd_, dfd_;
  AlignedBuffer staging_;
  std::size_t fill_ = 0;
  std::uint64_t off_ = 0;
  bool done_ = false;
};

}  // namespace

Result<std::unique_ptr<ObjectWriter>> LocalStore::create_writer(std::string_view uri,
                                                                const WriterOptions& opts) {
  OMNIO_TRY(path_of(uri));  // validate before opening anything
  return make_stream_writer(
      std::string(uri), opts,
      [this,
       cancel = opts.put.cancel](const std::string& final_uri) -> Result<std::unique_ptr<RawSink>> {
        OMNIO_ASSIGN_OR_RETURN(std::string path, path_of(final_uri));
        OMNIO_ASSIGN_OR_RETURN(auto tmp, make_temp(path, cfg_.sync_writes));
        Fd dfd;
        AlignedBuffer staging;
        if (cfg_.use_direct_io) {
          auto d = open_direct_for_write(tmp.first);
          if (!d.ok()) {
            ::unlink(tmp.first.c_str());
            return std::move(d).error();
          }
          dfd = std::move(*d);
          if (dfd) {
            auto b = AlignedBuffer::allocate(
                align_up(std::max(kDefaultWriterBufferSize, align_), align_), buf_align_, cancel);
            if (!b.ok()) {
              ::unlink(tmp.first.c_str());
              return std::move(b).error();
            }
            staging = std::move(*b);
          }
        }
        return std::unique_ptr<RawSink>(
            std::make_unique<LocalSink>(this, std::move(path), std::move(tmp.first),
                                        std::move(tmp.second), std::move(dfd), std::move(staging)));
      });
}

}  // namespace omnio::fs
