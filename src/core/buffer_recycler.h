// BufferRecycler: hands out page-aligned buffers of one size and takes them back when their last
// owner lets go, so a stream of equal-sized parts (multipart uploads) reuses a few warm buffers
// instead of mapping, faulting in and unmapping fresh memory for every part. Keeps at most `keep`
// idle buffers; buffers released after the recycler is gone, or of another size, are freed.
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
  static std::shared_ptr<BufferRecycler> create(std::size_t keep, std::size_t alignment);

  /// A buffer of exactly `size` bytes (an idle one when one of that size is kept). Thread-safe.
  /// Idle buffers keep their MemoryBudget reservation; a fresh one reserves (waiting while the
  /// budget is spent, until `cancel` fires).
  Result<std::shared_ptr<AlignedBuffer>> acquire(std::size_t size,
                                                 const CancellationToken& cancel = {});

  /// Idle buffers held now (for tests).
  std::size_t idle() const;

 private:
  BufferRecycler(std::size_t keep, std::size_t alignment) : keep_(keep), alignment_(alignment) {}
  void give_back(AlignedBuffer* b);

  const std::size_t keep_;
  const std::size_t alignment_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<AlignedBuffer>> idle_;
};

}  // namespace omnio
