// Local store: get_batch through io_uring. A batch of small files costs one system call instead
// of four per file (open, fstat, pread, close): on this project's VMs a system call's entry and
// exit alone is ~1.9 us, and reading a page-cached 128 KiB file takes ~25 us.
//
// Each file is a linked chain on its own fixed-file slot of the thread's ring:
//   openat(slot) -> read(slot, buffer, capacity, 0) -> read(slot, 1 byte, capacity) -> close(slot)
// The buffer comes from the caller (BufferSource) for the size it expects (BatchRead::size_hint).
// The one-byte read at the buffer's capacity proves the end of the file without an fstat: 0 bytes
// there means the file ended inside the buffer; a byte there means it is larger, and that file is
// read again the usual way (get_with_buffer, which asks for a buffer of the true size).
#include <fcntl.h>
#include <fmt/format.h>
#include <liburing.h>
#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "backends/file/file_store_impl.h"
#include "omnio/constants.h"
#include "omnio/log.h"

namespace omnio {
namespace {

std::atomic<bool> g_batches_off{false};
// Set once a thread's ring could not be made: the kernel refuses io_uring to this process.
std::atomic<bool> g_uring_unusable{false};

// Opcodes of a file's chain, kept in the low bits of user_data (the file's index above them).
enum Op : std::uint64_t { kOpen = 0, kRead = 1, kProbe = 2, kClose = 3, kOps = 4 };
constexpr std::uint64_t kCancelTag = ~std::uint64_t{0};

// One ring per thread, created on the thread's first batch: the loader's workers are long-lived,
// and a ring of one thread needs no lock (IORING_SETUP_SINGLE_ISSUER).
// Bumped in the child of every fork(): a ring belongs to the process (and, SINGLE_ISSUER, the
// thread) that made it, so a child makes rings of its own.
std::atomic<unsigned> g_fork_generation{0};

class ThreadRing {
 public:
  ThreadRing() : generation_(g_fork_generation.load(std::memory_order_relaxed)) {
    io_uring_params p{};
    // DEFER_TASKRUN (kernel 6.1): the chain's linked steps run inside our own wait, not on
    // interrupts of other work. Older kernels refuse the flags; plain rings work from 5.19.
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    int r = io_uring_queue_init_params(kEntries, &ring_, &p);
    if (r == -EINVAL) {
      p = io_uring_params{};
      r = io_uring_queue_init_params(kEntries, &ring_, &p);
    }
    if (r < 0) {
      why_ = fmt::format("io_uring_setup: {}", std::strerror(-r));
      return;
    }
    if (!(p.features & IORING_FEAT_EXT_ARG)) {
      why_ = "the kernel's io_uring cannot wait with a timeout (IORING_FEAT_EXT_ARG, Linux 5.11)";
      io_uring_queue_exit(&ring_);
      return;
    }
    r = io_uring_register_files_sparse(&ring_, kFileBatchReadMax);
    if (r < 0) {
      why_ = fmt::format("io_uring sparse file table: {}", std::strerror(-r));
      io_uring_queue_exit(&ring_);
      return;
    }
    ok_ = true;
  }
  ~ThreadRing() {
    if (ok_) io_uring_queue_exit(&ring_);
  }
  ThreadRing(const ThreadRing&) = delete;
  ThreadRing& operator=(const ThreadRing&) = delete;

  bool ok() const { return ok_; }
  unsigned generation() const { return generation_; }
  // Gives the ring up (the kernel refused it; nothing of ours is in it).
  void retire(std::string why) {
    if (ok_) io_uring_queue_exit(&ring_);
    ok_ = false;
    why_ = std::move(why);
  }
  const std::string& why() const { return why_; }
  io_uring* get() { return &ring_; }

  static constexpr unsigned kEntries = kFileBatchReadMax * kOps + 1;  // + a cancel

 private:
  io_uring ring_{};
  unsigned generation_;
  bool ok_ = false;
  std::string why_;
};

// The calling thread's ring; null where io_uring cannot be used (logged once per process).
ThreadRing* thread_ring() {
  if (g_uring_unusable.load(std::memory_order_relaxed)) return nullptr;
  static std::once_flag at_fork;
  std::call_once(at_fork, [] {
    pthread_atfork(nullptr, nullptr,
                   [] { g_fork_generation.fetch_add(1, std::memory_order_relaxed); });
  });
  thread_local std::unique_ptr<ThreadRing> ring;
  if (ring && ring->generation() != g_fork_generation.load(std::memory_order_relaxed)) {
    // Inherited through fork(): the child cannot submit to it. Unmap our copy and make another.
    ring.reset();
  }
  if (!ring) ring = std::make_unique<ThreadRing>();
  if (ring->ok()) return ring.get();
  if (!g_uring_unusable.exchange(true)) {
    log::info("file:// reads batches one file at a time: {}", ring->why());
  }
  return nullptr;
}

Error cancelled(const std::string& uri) {
  return Error(ErrorCode::kCancelled, fmt::format("read {}: cancelled", uri));
}

}  // namespace

void testing::disable_batched_file_reads(bool on) { g_batches_off.store(on); }

bool testing::batched_file_reads_available() { return thread_ring() != nullptr; }

namespace fs {

bool LocalStore::reads_in_batches() const {
  // O_DIRECT needs aligned lengths and its own fallback; kDontNeed an fadvise after each read.
  return !cfg_.use_direct_io && cfg_.page_cache_mode != PageCacheMode::kDontNeed &&
         !g_batches_off.load(std::memory_order_relaxed) &&
         !g_uring_unusable.load(std::memory_order_relaxed);
}

void LocalStore::get_batch(std::span<BatchRead> reads, const ReadOptions& opts) {
  for (std::size_t at = 0; at < reads.size(); at += kFileBatchReadMax) {
    const auto chunk = reads.subspan(at, std::min(kFileBatchReadMax, reads.size() - at));
    ThreadRing* ring = reads_in_batches() ? thread_ring() : nullptr;
    if (ring == nullptr) {
      ObjectStore::get_batch(chunk, opts);
      continue;
    }
    if (auto refused = batch_chunk(*ring->get(), chunk, opts)) {
      ring->retire(*refused);
      log::warn("file:// batch reads: {}; this thread reads one file at a time from now on",
                *refused);
      ObjectStore::get_batch(chunk, opts);
    }
  }
}

std::optional<std::string> LocalStore::batch_chunk(io_uring& ring, std::span<BatchRead> reads,
                                                   const ReadOptions& opts) {
  struct File {
    std::string path;
    std::shared_ptr<AlignedBuffer> buf;
    int res[kOps] = {0, 0, 0, 0};
    bool submitted = false;
    bool again = false;  // read with get_with_buffer instead
  };
  std::vector<File> files(reads.size());
  // The probe reads' bytes: their values are never looked at, only their counts.
  thread_local std::byte probe[kFileBatchReadMax];
  unsigned want = 0;  // completions to wait for
  for (std::size_t i = 0; i < reads.size(); ++i) {
    BatchRead& r = reads[i];
    File& f = files[i];
    if (opts.cancel.is_cancelled()) {
      r.result = cancelled(r.uri);
      continue;
    }
    auto path = path_of(r.uri);
    if (!path.ok()) {
      r.result = path.error();
      continue;
    }
    f.path = std::move(*path);
    // Small files only (one read of at most io_block_size, as the usual path's first pread):
    // without an expected size, or a larger one, the usual path decides.
    if (r.size_hint == 0 || r.size_hint > cfg_.io_block_size ||
        (cfg_.enable_range_engine && r.size_hint >= cfg_.range_engine.min_split_size)) {
      f.again = true;
      continue;
    }
    auto mem = r.buffer_for(r.size_hint);
    if (!mem.ok()) {
      r.result = mem.error();
      continue;
    }
    f.buf = std::move(*mem);
    if (!f.buf || f.buf->capacity() < r.size_hint) {
      auto own =
          AlignedBuffer::allocate(static_cast<std::size_t>(r.size_hint), buf_align_, opts.cancel);
      if (!own.ok()) {
        r.result = own.error();
        continue;
      }
      f.buf = std::make_shared<AlignedBuffer>(std::move(*own));
    }
    const unsigned slot = static_cast<unsigned>(i);
    const std::uint64_t tag = static_cast<std::uint64_t>(i) * kOps;
    // A lent buffer may be larger than the hint; a read's length and result are 32-bit.
    const auto cap = static_cast<unsigned>(std::min<std::size_t>(f.buf->capacity(), 1u << 30));
    io_uring_sqe* s = io_uring_get_sqe(&ring);
    io_uring_prep_openat_direct(s, AT_FDCWD, f.path.c_str(), O_RDONLY, 0, slot);
    s->flags |= IOSQE_IO_LINK;  // a failed open cancels the reads
    s->user_data = tag + kOpen;
    s = io_uring_get_sqe(&ring);
    io_uring_prep_read(s, static_cast<int>(slot), f.buf->data(), cap, 0);
    s->flags |= IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK;  // a short read goes on to the probe
    s->user_data = tag + kRead;
    s = io_uring_get_sqe(&ring);
    io_uring_prep_read(s, static_cast<int>(slot), &probe[i], 1, cap);
    s->flags |= IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK;  // the close runs whatever happened
    s->user_data = tag + kProbe;
    s = io_uring_get_sqe(&ring);
    io_uring_prep_close_direct(s, slot);
    s->user_data = tag + kClose;
    f.submitted = true;
    want += kOps;
  }
  // Every completion is waited for, also after a cancel: until then the kernel may still write
  // into the buffers, and a slot is free for the next batch only once its close completed.
  // Page-cached files complete inside the first call.
  bool cancel_sent = false;
  unsigned got = 0;
  int failures = 0;
  const unsigned prepared = io_uring_sq_ready(&ring);
  while (got < want) {
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec ts{};
    ts.tv_nsec = std::chrono::nanoseconds(kFileBatchCancelPoll).count();
    const int r = io_uring_sq_ready(&ring) > 0
                      ? io_uring_submit_and_wait_timeout(&ring, &cqe, want - got, &ts, nullptr)
                      : io_uring_wait_cqes(&ring, &cqe, want - got, &ts, nullptr);
    const bool failed = r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY;
    if (failed && got == 0 && io_uring_sq_ready(&ring) == prepared) {
      // The kernel refused the submission and took none of it (a ring it will not serve): no
      // buffer is in use, so the caller retires the ring and reads the batch the usual way.
      return fmt::format("io_uring_enter: {}", std::strerror(-r));
    }
    if (failed) {
      // Not expected of a working ring. The buffers cannot be handed back while the kernel may
      // still fill them, so there is no error to return instead.
      if (++failures == 100) {
        log::error("file:// batch read: io_uring keeps failing ({}); aborting", std::strerror(-r));
        std::abort();
      }
    } else {
      failures = 0;
    }
    unsigned head = 0;
    unsigned n = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++n;
      if (cqe->user_data == kCancelTag) continue;
      File& f = files[cqe->user_data / kOps];
      f.res[cqe->user_data % kOps] = cqe->res;
    }
    io_uring_cq_advance(&ring, n);
    got += n;
    if (got < want && !cancel_sent && opts.cancel.is_cancelled()) {
      io_uring_sqe* s = io_uring_get_sqe(&ring);
      io_uring_prep_cancel64(s, 0, IORING_ASYNC_CANCEL_ANY);
      s->user_data = kCancelTag;
      ++want;
      cancel_sent = true;
    }
  }
  for (std::size_t i = 0; i < reads.size(); ++i) {
    BatchRead& r = reads[i];
    File& f = files[i];
    if (f.again) {
      r.result = get_with_buffer(r.uri, r.buffer_for, opts);
      continue;
    }
    if (!f.submitted) continue;
    const int open_res = f.res[kOpen];
    const int read_res = f.res[kRead];
    const int probe_res = f.res[kProbe];
    if (open_res < 0) {
      r.result = open_res == -ECANCELED && opts.cancel.is_cancelled()
                     ? Result<Bytes>(cancelled(r.uri))
                     : Result<Bytes>(errno_error(-open_res, fmt::format("open {}", r.uri)));
      continue;
    }
    if (read_res == -EISDIR) {
      r.result =
          Error(ErrorCode::kNotFound, fmt::format("{} is a directory, not an object", r.uri));
      continue;
    }
    if (read_res < 0 || probe_res < 0) {
      const int e = read_res < 0 ? -read_res : -probe_res;
      r.result = e == ECANCELED && opts.cancel.is_cancelled()
                     ? Result<Bytes>(cancelled(r.uri))
                     : Result<Bytes>(errno_error(e, fmt::format("read {}", r.uri)));
      continue;
    }
    if (probe_res > 0) {  // larger than the buffer: the usual path, with a buffer of its size
      batch_rereads_.fetch_add(1, std::memory_order_relaxed);
      files[i].buf.reset();
      r.result = get_with_buffer(r.uri, r.buffer_for, opts);
      continue;
    }
    // A regular file's read ends short only at its end, and the probe found nothing after the
    // buffer: the file is these read_res bytes.
    simple_gets_.fetch_add(1, std::memory_order_relaxed);
    buffered_reads_.fetch_add(1, std::memory_order_relaxed);
    batched_reads_.fetch_add(1, std::memory_order_relaxed);
    const auto size = static_cast<std::size_t>(read_res);
    f.buf->resize(size);
    const std::byte* data = f.buf->data();
    r.result = Bytes::from_shared(std::move(f.buf), data, size);
  }
  return std::nullopt;
}

}  // namespace fs
}  // namespace omnio
