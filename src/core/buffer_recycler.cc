#include "core/buffer_recycler.h"

#include <utility>

namespace omnio {

std::shared_ptr<BufferRecycler> BufferRecycler::create(std::size_t keep, std::size_t alignment) {
  return std::shared_ptr<BufferRecycler>(new BufferRecycler(keep, alignment));
}

Result<std::shared_ptr<AlignedBuffer>> BufferRecycler::acquire(std::size_t size,
                                                               const CancellationToken& cancel) {
  std::unique_ptr<AlignedBuffer> b;
  std::vector<std::unique_ptr<AlignedBuffer>> stale;  // freed outside the lock
  {
    std::lock_guard lock(mu_);
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if ((*it)->capacity() >= size && (*it)->capacity() - size < alignment_) {
        b = std::move(*it);
        idle_.erase(it);
        break;
      }
    }
    // The part size changed (it grows on long streams): idle buffers of the old size are dead
    // weight.
    if (!b) stale.swap(idle_);
  }
  if (!b) {
    stale.clear();  // their memory (and budget) goes back before the new buffer waits for it
    OMNIO_ASSIGN_OR_RETURN(AlignedBuffer fresh, AlignedBuffer::allocate(size, alignment_, cancel));
    b = std::make_unique<AlignedBuffer>(std::move(fresh));
  }
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

void BufferRecycler::give_back(AlignedBuffer* b) {
  std::unique_ptr<AlignedBuffer> owned(b);
  // Someone waits for memory (perhaps our own next acquire, blocked in the budget before this
  // buffer came back): free it rather than keep it idle.
  if (owned->reserved_bytes() != 0 && MemoryBudget::process().waiters() != 0) return;
  std::lock_guard lock(mu_);
  if (idle_.size() < keep_) idle_.push_back(std::move(owned));
}

std::size_t BufferRecycler::idle() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

}  // namespace omnio
