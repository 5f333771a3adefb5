// BufferRecycler: hands out page-aligned buffers and takes them back when their last owner lets
// go, so a stream of items of similar sizes (the DataLoader's item buffers) reuses a few warm
// buffers instead of mapping, faulting in and unmapping fresh memory for every item. A request is
// served by the smallest idle buffer that holds it and is at most a quarter larger (items of
// nearly equal size share buffers); otherwise by a fresh buffer of exactly the requested size
// (with `slabs`, one of kRecyclerSlabMinItem..kRecyclerSlabMaxItem that the budget does not charge
// is cut from a huge-page slab: constants.h). Keeps at most `keep` idle buffers (the least recently
// returned goes first); buffers released after the recycler is gone are freed.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "omnio/aligned_buffer.h"
#include "omnio/result.h"

namespace omnio {

class BufferRecycler : public std::enable_shared_from_this<BufferRecycler> {
 public:
  static std::shared_ptr<BufferRecycler> create(std::size_t keep, std::size_t alignment,
                                                bool slabs = false);

  /// A buffer whose size() is `size` (an idle one of capacity size .. size + size / 4 when one is
  /// kept, else a fresh one). Thread-safe. Idle buffers keep their MemoryBudget reservation; a
  /// fresh one reserves, and waits while the budget is spent, until `cancel` fires. A wait for
  /// the process budget (from here or from anyone else) first frees every recycler's idle
  /// budget-charged buffers (reclaim_idle_buffers), and buffers given back while anyone waits
  /// are freed, not kept: idle memory never starves a request.
  Result<std::shared_ptr<AlignedBuffer>> acquire(std::size_t size,
                                                 const CancellationToken& cancel = {});

  /// acquire() that never waits: an idle buffer, or a fresh one when the MemoryBudget has room for
  /// it now; null when it would have to wait (for callers that must not hold memory while waiting
  /// for more, out of the order their consumer frees it in).
  Result<std::shared_ptr<AlignedBuffer>> try_acquire(std::size_t size);
  /// Idle buffers held now (for tests).
  std::size_t idle() const;
  /// Frees this recycler's idle buffers that hold a MemoryBudget reservation.
  void drop_charged_idle();
  /// Slabs mapped now, by every recycler (for tests).
  static std::size_t live_slabs();

 private:
  BufferRecycler(std::size_t keep, std::size_t alignment, bool slabs)
      : keep_(keep), alignment_(alignment), slabs_(slabs) {}
  void give_back(AlignedBuffer* b);
  /// The best idle buffer for `size` (see acquire), or null.
  std::unique_ptr<AlignedBuffer> take_idle(std::size_t size);
  /// `b` as a shared buffer of size() `size` that comes back here when its last owner lets go.
  std::shared_ptr<AlignedBuffer> lend(std::unique_ptr<AlignedBuffer> b, std::size_t size);
  /// A fresh buffer for `size` cut from the current slab (a new one when it is full); null when
  /// slabs are off, the size is outside the slab range or charged, or no slab could be mapped.
  std::unique_ptr<AlignedBuffer> carve(std::size_t size);

  const std::size_t keep_;
  const std::size_t alignment_;
  const bool slabs_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<AlignedBuffer>> idle_;  // oldest first
  std::shared_ptr<std::byte> slab_;                   // buffers are cut from it front to back
  std::size_t slab_used_ = 0;
};

/// Frees the budget-charged idle buffers of every live BufferRecycler. MemoryBudget::reserve()
/// calls it on the process budget after it counts itself as a waiter and before it waits:
/// a buffer given back before that is idle here and freed now; one given back after it sees the
/// waiter and is freed then (give_back decides under the recycler's lock, which this takes too).
/// Without it, a reservation could wait forever for memory that idle buffers hold while the
/// threads that would free it wait for the reservation (the loader's turn order).
void reclaim_idle_buffers();

}  // namespace omnio
