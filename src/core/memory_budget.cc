#include "omnio/memory_budget.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include "core/buffer_recycler.h"
#include "omnio/constants.h"
#include "omnio/env.h"
#include "omnio/log.h"
#include "omnio/units.h"

namespace omnio {

struct MemoryReservation::State {
  mutable std::mutex mu;
  std::condition_variable_any cv;
  MemoryBudgetStats st;  // st.limit: 0 = unlimited
  std::atomic<std::size_t> waiting{0};

  bool fits(std::uint64_t n) const { return st.limit == 0 || st.reserved + n <= st.limit; }
  void take(std::uint64_t n) {  // under mu
    st.reserved += n;
    st.peak = std::max(st.peak, st.reserved);
    ++st.reservations;
  }
  void give(std::uint64_t n) {
    {
      std::lock_guard g(mu);
      st.reserved -= n;
    }
    cv.notify_all();
  }
};

MemoryReservation::MemoryReservation(MemoryReservation&& o) noexcept
    : state_(std::move(o.state_)), bytes_(std::exchange(o.bytes_, 0)) {}

MemoryReservation& MemoryReservation::operator=(MemoryReservation&& o) noexcept {
  if (this != &o) {
    release();
    state_ = std::move(o.state_);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

MemoryReservation::~MemoryReservation() { release(); }

void MemoryReservation::release() {
  if (state_ && bytes_ != 0) state_->give(bytes_);
  bytes_ = 0;
  state_.reset();
}

void MemoryReservation::merge(MemoryReservation&& o) {
  if (o.bytes_ == 0) return;
  if (bytes_ == 0) {
    *this = std::move(o);
    return;
  }
  if (o.state_ != state_) std::abort();  // programming error: two budgets
  bytes_ += std::exchange(o.bytes_, 0);
  o.state_.reset();
}

namespace {

// Bytes of memory this process may use: physical memory, or the cgroup v2 / v1 limit when lower.
std::uint64_t usable_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  std::uint64_t mem = pages > 0 && page > 0
                          ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page)
                          : 0;
  for (const char* path : {"/sys/fs/cgroup/memory.max",  // v2 (unified, "max" = none)
                           "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {  // v1
    std::ifstream f(path);
    std::uint64_t v = 0;
    if (f >> v && v > 0 && (mem == 0 || v < mem)) mem = v;
  }
  return mem;
}

}  // namespace

MemoryBudget::MemoryBudget(std::uint64_t limit)
    : state_(std::make_shared<MemoryReservation::State>()) {
  state_->st.limit = limit;
}

MemoryBudget::~MemoryBudget() = default;

std::uint64_t MemoryBudget::default_limit() {
  const auto mem = static_cast<double>(usable_memory());
  return std::max<std::uint64_t>(kMinMemoryBudget,
                                 static_cast<std::uint64_t>(mem * kDefaultMemoryBudgetFraction));
}

Result<std::uint64_t> MemoryBudget::parse_limit(const std::string& text) {
  if (text == "off" || text == "0" || text == "unlimited") return 0;
  if (!text.empty() && text.back() == '%') {
    const std::string num = text.substr(0, text.size() - 1);
    char* end = nullptr;
    const double pct = std::strtod(num.c_str(), &end);
    if (num.empty() || end != num.c_str() + num.size() || !(pct > 0 && pct <= 100)) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("memory budget '{}': expected a percentage in (0, 100], a size "
                               "such as 512MiB or 4GiB, or 'off'",
                               text));
    }
    return std::max<std::uint64_t>(
        kMinMemoryBudget,
        static_cast<std::uint64_t>(static_cast<double>(usable_memory()) * pct / 100.0));
  }
  OMNIO_ASSIGN_OR_RETURN(std::uint64_t n, parse_byte_size(text, "memory budget"));
  if (n < kMinMemoryBudget) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("memory budget '{}' is below the minimum of {}: one range, part or "
                             "item buffer must fit; use 'off' for no limit",
                             text, format_bytes(static_cast<double>(kMinMemoryBudget))));
  }
  return n;
}

MemoryBudget& MemoryBudget::process() {
  static MemoryBudget* const budget = [] {
    std::uint64_t limit = default_limit();
    if (auto v = env::get("OMNIO_MEMORY_BUDGET")) {
      auto parsed = parse_limit(*v);
      if (parsed.ok()) {
        limit = *parsed;
      } else {
        log::warn("OMNIO_MEMORY_BUDGET ignored: {}; using the default of {}",
                  parsed.error().message(), format_bytes(static_cast<double>(limit)));
      }
    }
    return new MemoryBudget(limit);  // never destroyed: buffers may outlive static destructors
  }();
  return *budget;
}

std::uint64_t MemoryBudget::limit() const {
  std::lock_guard g(state_->mu);
  return state_->st.limit;
}

void MemoryBudget::set_limit(std::uint64_t limit) {
  {
    std::lock_guard g(state_->mu);
    state_->st.limit = limit;
  }
  state_->cv.notify_all();
}

Result<MemoryReservation> MemoryBudget::reserve(std::uint64_t n, const CancellationToken& cancel) {
  if (n == 0) return MemoryReservation();
  std::unique_lock lock(state_->mu);
  auto too_big = [&] {
    return Error(ErrorCode::kResourceExhausted,
                 fmt::format("a buffer of {} does not fit in the memory budget of {} "
                             "(OMNIO_MEMORY_BUDGET / --memory-budget): raise the budget, or use "
                             "smaller parts, ranges or items, or a streamed read",
                             format_bytes(static_cast<double>(n)),
                             format_bytes(static_cast<double>(state_->st.limit))));
  };
  if (state_->st.limit != 0 && n > state_->st.limit) return too_big();
  if (!state_->fits(n)) {
    const auto t0 = std::chrono::steady_clock::now();
    auto next_warn = t0 + kMemoryBudgetWarnAfter;
    ++state_->st.waits;
    state_->waiting.fetch_add(1, std::memory_order_relaxed);
    struct Leave {
      std::atomic<std::size_t>& w;
      ~Leave() { w.fetch_sub(1, std::memory_order_relaxed); }
    } leave{state_->waiting};
    if (this == &process()) {
      // Idle recycled buffers hold budget that nobody may ever give back while this waits: free
      // them first (after counting this waiter: see reclaim_idle_buffers).
      lock.unlock();
      reclaim_idle_buffers();
      lock.lock();
    }
    while (!state_->fits(n)) {
      if (cancel.wait_until(lock, state_->cv, next_warn, [&] { return state_->fits(n); })) break;
      if (cancel.is_cancelled()) {
        state_->st.wait_time += std::chrono::steady_clock::now() - t0;
        return Error(ErrorCode::kCancelled, "cancelled while waiting for the memory budget");
      }
      if (state_->st.limit != 0 && n > state_->st.limit) return too_big();  // the limit was lowered
      if (std::chrono::steady_clock::now() >= next_warn) {
        log::warn(
            "waiting {:.0f} s for {} of the memory budget: {} of {} reserved by other "
            "buffers (raise OMNIO_MEMORY_BUDGET, or lower concurrency)",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
            format_bytes(static_cast<double>(n)),
            format_bytes(static_cast<double>(state_->st.reserved)),
            format_bytes(static_cast<double>(state_->st.limit)));
        next_warn += kMemoryBudgetWarnAfter;
      }
    }
    state_->st.wait_time += std::chrono::steady_clock::now() - t0;
  }
  state_->take(n);
  return MemoryReservation(state_, n);
}

std::optional<MemoryReservation> MemoryBudget::try_reserve(std::uint64_t n) {
  if (n == 0) return MemoryReservation();
  std::lock_guard g(state_->mu);
  if (!state_->fits(n)) return std::nullopt;
  state_->take(n);
  return MemoryReservation(state_, n);
}

std::size_t MemoryBudget::waiters() const {
  return state_->waiting.load(std::memory_order_relaxed);
}

MemoryBudgetStats MemoryBudget::stats() const {
  std::lock_guard g(state_->mu);
  return state_->st;
}

void MemoryBudget::reset_stats() {
  std::lock_guard g(state_->mu);
  state_->st.peak = state_->st.reserved;
  state_->st.reservations = 0;
  state_->st.waits = 0;
  state_->st.wait_time = std::chrono::nanoseconds{0};
}

}  // namespace omnio
