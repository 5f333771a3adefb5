#include "core/buffer_recycler.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <utility>

#include "core/huge_pages.h"
#include "omnio/constants.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

namespace omnio {

namespace {

// Faults in a fresh heap buffer's pages with one system call: the buffer is about to be written
// whole, and on our VMs each page's own fault costs ~14 us (a loader of 128 KiB items faults in
// ~40-100 fresh buffers of 33 pages). Large buffers are left to fault as they are written: they
// are mmap'ed, from 2 MiB with transparent huge pages, where populating would compact memory up
// front. Best effort: an old kernel's EINVAL leaves the pages to fault as before.
void prefault(AlignedBuffer& b) {
  if (b.capacity() >= kLargeBufferThreshold) return;
  static const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<std::uintptr_t>(b.data()) & ~(page - 1);
  const auto end = reinterpret_cast<std::uintptr_t>(b.data()) + b.capacity();
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
}

std::atomic<std::size_t> g_live_slabs{0};

// A kRecyclerSlabSize mapping on a huge-page boundary that asks for transparent huge pages and is
// populated at once (one fault per slab where THP is on); unmapped with its last reference. Not
// charged to the budget: the buffers cut from it are of sizes it does not charge, as heap buffers
// of those sizes are not.
std::shared_ptr<std::byte> map_slab() {
  static_assert(kRecyclerSlabSize % kHugePageSize == 0);
  std::byte* start = map_on_huge_page(kRecyclerSlabSize);
  if (start == nullptr) return nullptr;
  ::madvise(start, kRecyclerSlabSize, MADV_POPULATE_WRITE);  // best effort, as prefault()
  g_live_slabs.fetch_add(1, std::memory_order_relaxed);
  return std::shared_ptr<std::byte>(start, [](std::byte* p) {
    ::munmap(p, kRecyclerSlabSize);
    g_live_slabs.fetch_sub(1, std::memory_order_relaxed);
  });
}

// Every recycler created, for reclaim_idle_buffers (expired ones are pruned as it goes).
std::mutex& registry_mu() {
  static std::mutex mu;
  return mu;
}
std::vector<std::weak_ptr<BufferRecycler>>& registry() {
  static auto* const r = new std::vector<std::weak_ptr<BufferRecycler>>();  // never destroyed
  return *r;
}

}  // namespace

std::shared_ptr<BufferRecycler> BufferRecycler::create(std::size_t keep, std::size_t alignment,
                                                       bool slabs) {
  std::shared_ptr<BufferRecycler> r(new BufferRecycler(keep, alignment, slabs));
  std::lock_guard g(registry_mu());
  auto& all = registry();
  std::erase_if(all, [](const std::weak_ptr<BufferRecycler>& w) { return w.expired(); });
  all.push_back(r);
  return r;
}

void reclaim_idle_buffers() {
  std::vector<std::shared_ptr<BufferRecycler>> live;
  {
    std::lock_guard g(registry_mu());
    for (const auto& w : registry()) {
      if (auto r = w.lock()) live.push_back(std::move(r));
    }
  }
  // Outside the registry's lock: freeing a buffer returns its reservation to the budget, and the
  // last reference to a recycler may go here.
  for (const auto& r : live) r->drop_charged_idle();
}

void BufferRecycler::drop_charged_idle() {
  std::vector<std::unique_ptr<AlignedBuffer>> charged;  // freed outside the lock
  std::lock_guard lock(mu_);
  for (auto& b : idle_) {
    if (b->reserved_bytes() != 0) charged.push_back(std::move(b));
  }
  std::erase(idle_, nullptr);
}

std::unique_ptr<AlignedBuffer> BufferRecycler::take_idle(std::size_t size) {
  std::unique_ptr<AlignedBuffer> b;
  {
    std::lock_guard lock(mu_);
    // Best fit within a quarter: a dataset whose items differ by a few percent (shards, clips)
    // keeps reusing its buffers; a buffer much larger than the item is left for a larger one.
    // Among equals the most recently returned, whose memory is likeliest still in the CPU cache
    // (taking the oldest cycled 128 KiB items through 30 MiB of buffers and made the copy into
    // them 1.7x slower).
    // Scanned newest first, and a buffer of the exact rounded size ends the scan: a data set of
    // equal-sized items finds one at the back at once (a full scan of the loader's 160 idle
    // buffers under this lock, per item, showed in its profile).
    const std::size_t most = size + size / 4 + alignment_;
    const std::size_t exact = (size + alignment_ - 1) / alignment_ * alignment_;
    auto best = idle_.rend();
    for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
      const std::size_t cap = (*it)->capacity();
      if (cap >= size && cap < most && (best == idle_.rend() || cap < (*best)->capacity())) {
        best = it;
        if (cap <= exact) break;
      }
    }
    if (best != idle_.rend()) {
      b = std::move(*best);
      idle_.erase(std::next(best).base());
    }
  }
  return b;
}

std::shared_ptr<AlignedBuffer> BufferRecycler::lend(std::unique_ptr<AlignedBuffer> b,
                                                    std::size_t size) {
  b->resize(size);
  std::weak_ptr<BufferRecycler> home = weak_from_this();
  return std::shared_ptr<AlignedBuffer>(b.release(), [home](AlignedBuffer* p) {
    if (auto r = home.lock()) {
      r->give_back(p);
    } else {
      delete p;
    }
  });
}

std::size_t BufferRecycler::live_slabs() { return g_live_slabs.load(); }

std::unique_ptr<AlignedBuffer> BufferRecycler::carve(std::size_t size) {
  if (!slabs_ || size < kRecyclerSlabMinItem || size > kRecyclerSlabMaxItem ||
      budgeted_capacity(size, alignment_) != 0 || kRecyclerSlabSize % alignment_ != 0) {
    return nullptr;
  }
  const std::size_t cap = align_up(size, alignment_);
  std::lock_guard lock(mu_);
  if (!slab_ || slab_used_ + cap > kRecyclerSlabSize) {
    slab_ = map_slab();
    slab_used_ = 0;
    if (!slab_) return nullptr;
  }
  std::byte* at = slab_.get() + slab_used_;
  slab_used_ += cap;
  return std::make_unique<AlignedBuffer>(AlignedBuffer::carved(at, size, cap, alignment_, slab_));
}

Result<std::shared_ptr<AlignedBuffer>> BufferRecycler::acquire(std::size_t size,
                                                               const CancellationToken& cancel) {
  std::unique_ptr<AlignedBuffer> b = take_idle(size);
  if (!b) b = carve(size);
  if (!b) {
    MemoryReservation reserved;
    if (const std::size_t charge = budgeted_capacity(size, alignment_); charge != 0) {
      // When the budget is spent, allocate() waits, after reserve() frees the idle buffers.
      if (auto r = MemoryBudget::process().try_reserve(charge)) reserved = std::move(*r);
    }
    OMNIO_ASSIGN_OR_RETURN(AlignedBuffer fresh,
                           AlignedBuffer::allocate(size, alignment_, std::move(reserved), cancel));
    prefault(fresh);
    b = std::make_unique<AlignedBuffer>(std::move(fresh));
  }
  return lend(std::move(b), size);
}

Result<std::shared_ptr<AlignedBuffer>> BufferRecycler::try_acquire(std::size_t size) {
  std::unique_ptr<AlignedBuffer> b = take_idle(size);
  if (!b) b = carve(size);
  if (!b) {
    MemoryReservation reserved;
    if (const std::size_t charge = budgeted_capacity(size, alignment_); charge != 0) {
      auto r = MemoryBudget::process().try_reserve(charge);
      if (!r) return std::shared_ptr<AlignedBuffer>();  // would wait: the caller's choice
      reserved = std::move(*r);
    }
    // Holds its whole charge already: never waits.
    OMNIO_ASSIGN_OR_RETURN(AlignedBuffer fresh,
                           AlignedBuffer::allocate(size, alignment_, std::move(reserved), {}));
    prefault(fresh);
    b = std::make_unique<AlignedBuffer>(std::move(fresh));
  }
  return lend(std::move(b), size);
}

void BufferRecycler::give_back(AlignedBuffer* b) {
  std::unique_ptr<AlignedBuffer> owned(b);
  std::unique_ptr<AlignedBuffer> evicted;  // freed outside the lock
  std::lock_guard lock(mu_);
  if (keep_ == 0) return;
  // Someone waits for memory (perhaps our own next acquire, blocked in the budget before this
  // buffer came back): free it rather than keep it idle. Read under mu_: a waiter counts itself
  // before reclaim_idle_buffers takes mu_, so a buffer kept here is either seen by that reclaim
  // or given back after the waiter counted itself, and then freed by this test.
  if (owned->reserved_bytes() != 0 && MemoryBudget::process().waiters() != 0) return;
  if (idle_.size() >= keep_) {
    evicted = std::move(idle_.front());
    idle_.erase(idle_.begin());
  }
  idle_.push_back(std::move(owned));
}

std::size_t BufferRecycler::idle() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

}  // namespace omnio
