// AlignedBuffer: an owned, uninitialised block of memory whose address and capacity are multiples
// of an alignment, as O_DIRECT requires. The alignment is a property of the store, never a literal.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "omnio/cancel.h"
#include "omnio/constants.h"
#include "omnio/memory_budget.h"
#include "omnio/result.h"

namespace omnio {

/// Owned memory aligned to `alignment` (a power of two). Move-only. Buffers of at least
/// kLargeBufferThreshold bytes are mapped pages (returned to the OS on destruction, whichever
/// thread frees them) reserved from the process MemoryBudget; smaller ones come from the heap.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  /// Allocates round_up(size, alignment) bytes aligned to `alignment`; size() reports `size`.
  /// A large buffer first reserves its capacity from MemoryBudget::process(), waiting while the
  /// budget is spent (until `cancel` fires: kCancelled); larger than the whole budget is
  /// kResourceExhausted.
  static Result<AlignedBuffer> allocate(std::size_t size, std::size_t alignment,
                                        const CancellationToken& cancel = {});
  /// As allocate(), using `reserved` (taken earlier, e.g. with try_reserve) for the budget; only
  /// a shortfall is reserved (waiting) on top.
  static Result<AlignedBuffer> allocate(std::size_t size, std::size_t alignment,
                                        MemoryReservation reserved,
                                        const CancellationToken& cancel = {});
  /// A buffer of `capacity` bytes at `data` inside a block that `owner` keeps alive (e.g. a slab
  /// that BufferRecycler carves mid-sized buffers from): destroying the buffer releases `owner`,
  /// and the block is freed with the last buffer that holds it. `data` and `capacity` must be
  /// multiples of `alignment`.
  static AlignedBuffer carved(std::byte* data, std::size_t size, std::size_t capacity,
                              std::size_t alignment, std::shared_ptr<const void> owner);
  /// Budget bytes this buffer holds (0 for heap buffers and carved ones: their block holds it).
  std::uint64_t reserved_bytes() const { return reservation_.bytes(); }
  /// Hands this buffer's reservation to the caller, to size a successor buffer that replaces it
  /// (e.g. a whole-object buffer after a first-range probe) without waiting for its own bytes:
  /// the two overlap only while the first is copied into the second.
  MemoryReservation take_reservation() { return std::move(reservation_); }

  AlignedBuffer(AlignedBuffer&& other) noexcept;
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer();

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  /// Logical size in bytes (may be less than capacity()).
  std::size_t size() const { return size_; }
  /// Allocated bytes: size() rounded up to alignment().
  std::size_t capacity() const { return capacity_; }
  std::size_t alignment() const { return alignment_; }
  /// Sets the logical size; must not exceed capacity().
  void resize(std::size_t n);
  std::span<std::byte> span() { return {data_, size_}; }
  std::span<const std::byte> span() const { return {data_, size_}; }

  /// True when the memory is mmap'ed (large buffers).
  bool mapped() const { return mapped_; }

 private:
  void free_memory();
  std::byte* data_ = nullptr;
  void* block_ = nullptr;  // heap buffers: the malloc block data_ is aligned inside
  bool mapped_ = false;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::size_t alignment_ = 0;
  MemoryReservation reservation_;
  std::shared_ptr<const void> owner_;  // carved(): the block data_ lies in
};

/// Bytes a buffer of `size` aligned to `alignment` takes from the memory budget (0: not charged).
std::size_t budgeted_capacity(std::size_t size, std::size_t alignment);

/// Rounds `n` down / up to a multiple of the power-of-two `a`.
constexpr std::size_t align_down(std::size_t n, std::size_t a) { return n & ~(a - 1); }
constexpr std::size_t align_up(std::size_t n, std::size_t a) { return (n + a - 1) & ~(a - 1); }
constexpr bool is_power_of_two(std::size_t n) { return n != 0 && (n & (n - 1)) == 0; }

}  // namespace omnio
