// MemoryBudget: one process-wide limit on the bytes of large buffers omnio holds at once. Every
// AlignedBuffer of kLargeBufferThreshold bytes or more (RangeEngine destinations and in-flight
// ranges, loader items, multipart parts, direct:// staging buffers) is reserved from it before its
// memory is mapped, and released when the buffer is freed. When the budget is spent, producers
// wait until memory comes back (backpressure) instead of allocating past it; a single request
// larger than the whole budget fails at once with kResourceExhausted naming both numbers.
//
// Deadlock rule for callers: never wait for budget while holding reservations whose release
// depends on the waiting thread. Components that hold memory in flight (RangeEngine, the loader)
// use try_reserve() while they have work outstanding and wait only when they hold nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "omnio/cancel.h"
#include "omnio/result.h"

namespace omnio {

/// What the budget has done since start (or since reset_peak()).
struct MemoryBudgetStats {
  /// The limit in bytes; 0 = unlimited (reservations are only counted).
  std::uint64_t limit = 0;
  /// Bytes reserved now.
  std::uint64_t reserved = 0;
  /// Highest `reserved` seen.
  std::uint64_t peak = 0;
  /// Reservations granted, and how many of them had to wait.
  std::uint64_t reservations = 0;
  std::uint64_t waits = 0;
  /// Total time reservations spent waiting for memory to come back.
  std::chrono::nanoseconds wait_time{0};
};

class MemoryBudget;

/// Bytes reserved from a MemoryBudget; move-only, released on destruction (from any thread).
class MemoryReservation {
 public:
  MemoryReservation() = default;
  MemoryReservation(MemoryReservation&& o) noexcept;
  MemoryReservation& operator=(MemoryReservation&& o) noexcept;
  MemoryReservation(const MemoryReservation&) = delete;
  MemoryReservation& operator=(const MemoryReservation&) = delete;
  ~MemoryReservation();

  std::uint64_t bytes() const { return bytes_; }
  explicit operator bool() const { return bytes_ != 0; }
  /// Returns the bytes to the budget now.
  void release();
  /// Adds `other`'s bytes to this reservation (both must come from the same budget, or this one
  /// be empty).
  void merge(MemoryReservation&& other);

 private:
  friend class MemoryBudget;
  struct State;
  MemoryReservation(std::shared_ptr<State> s, std::uint64_t n) : state_(std::move(s)), bytes_(n) {}
  std::shared_ptr<State> state_;
  std::uint64_t bytes_ = 0;
};

/// A byte limit shared by every large buffer of a process (or of one test). Thread-safe.
class MemoryBudget {
 public:
  /// `limit` bytes; 0 = unlimited.
  explicit MemoryBudget(std::uint64_t limit);
  ~MemoryBudget();
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  /// The budget of this process: OMNIO_MEMORY_BUDGET when set, else default_limit().
  static MemoryBudget& process();
  /// kDefaultMemoryBudgetFraction of the memory this process may use: physical memory, or the
  /// cgroup (container) limit when that is lower; never below kMinMemoryBudget.
  static std::uint64_t default_limit();
  /// Parses OMNIO_MEMORY_BUDGET / --memory-budget: a size ("4GiB", "512MiB", "2g"), a percentage
  /// of default_limit()'s base memory ("25%"), or "off" / "0" for unlimited.
  static Result<std::uint64_t> parse_limit(const std::string& text);

  std::uint64_t limit() const;
  /// Changes the limit (0 = unlimited); waiters re-check at once. Existing reservations stay.
  void set_limit(std::uint64_t limit);

  /// Reserves `n` bytes, waiting while the budget is spent. kResourceExhausted at once when `n`
  /// exceeds the limit; kCancelled when `cancel` fires first. Logs a warning for every
  /// kMemoryBudgetWarnAfter spent waiting, so a stalled program says why.
  Result<MemoryReservation> reserve(std::uint64_t n, const CancellationToken& cancel = {});
  /// Reserves `n` bytes only if that needs no wait.
  std::optional<MemoryReservation> try_reserve(std::uint64_t n);

  /// Reservations waiting for memory now. Caches of idle buffers free a returned buffer instead
  /// of keeping it while this is non-zero: idle memory must not starve a waiter (which may be the
  /// cache's own next acquire).
  std::size_t waiters() const;

  MemoryBudgetStats stats() const;
  /// Restarts `peak` from the bytes reserved now, and zeroes the wait counters.
  void reset_stats();

 private:
  std::shared_ptr<MemoryReservation::State> state_;
};

}  // namespace omnio
