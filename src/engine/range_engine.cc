#include "omnio/range_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "omnio/log.h"

namespace omnio {
namespace {

using Clock = std::chrono::steady_clock;

// State shared with completion callbacks, which may run on any thread and may outlive the call
// by the instant between notify and unlock; hence shared ownership.
struct Shared {
  std::mutex mu;
  std::condition_variable_any cv;
  std::size_t inflight = 0;
  std::size_t peak = 0;
  // index -> completion status, for ranges that finished but were not yet consumed.
  std::map<std::size_t, Status> finished;
};

struct Range {
  std::uint64_t offset = 0;
  std::size_t length = 0;
};

std::string range_text(std::size_t i, const Range& r) {
  return fmt::format("range {} (bytes={}-{})", i, r.offset, r.offset + r.length - 1);
}

// Drives the ranges of one download. `prepare(i, offset, length, may_wait)` returns the
// destination of range i, or nullopt for "not now" (only when !may_wait: other ranges are
// outstanding, and the driver retries after one of them completes);
// `deliver(i)` runs on the calling thread once range i completed successfully, in index order
// when `ordered` (then at most max_concurrent ranges are undelivered at once).
class Driver {
 public:
  Driver(const RangeEngineConfig& cfg, const RangeReadFn& read, const CancellationToken& cancel)
      : cfg_(cfg), read_(read), user_cancel_(cancel), op_cancel_(cancel.child()) {}

  template <typename Prepare, typename Deliver>
  Result<RangeStats> run(std::uint64_t size, bool ordered, Prepare prepare, Deliver deliver) {
    const auto t0 = Clock::now();
    std::vector<Range> ranges;
    if (size < cfg_.min_split_size) {
      ranges.push_back({0, static_cast<std::size_t>(size)});
    } else {
      for (std::uint64_t off = 0; off < size; off += cfg_.chunk_size) {
        ranges.push_back(
            {off, static_cast<std::size_t>(std::min<std::uint64_t>(cfg_.chunk_size, size - off))});
      }
    }
    std::vector<Clock::time_point> started(ranges.size());
    std::size_t next = 0;       // next range to start
    std::size_t delivered = 0;  // ranges consumed (in order when `ordered`)
    Error failure;
    bool failed = false;
    auto fail = [&](Error e) {
      if (!failed) {
        failed = true;
        failure = std::move(e);
      }
      op_cancel_.cancel();
    };

    std::unique_lock lock(shared_->mu);
    while (true) {
      // Start as many ranges as the window allows.
      while (!failed && next < ranges.size() && shared_->inflight < cfg_.max_concurrent_ranges &&
             (!ordered || next < delivered + cfg_.max_concurrent_ranges)) {
        if (user_cancel_.is_cancelled()) {
          fail(Error(ErrorCode::kCancelled, "download cancelled"));
          break;
        }
        const std::size_t i = next++;
        // With ranges outstanding, a destination must not wait for memory: those ranges' own
        // buffers may be what the budget is waiting for (they come back once delivered).
        const bool may_wait = shared_->inflight == 0 && shared_->finished.empty();
        lock.unlock();
        Result<std::optional<std::span<std::byte>>> dest =
            prepare(i, ranges[i].offset, ranges[i].length, may_wait);
        lock.lock();
        if (!dest.ok()) {
          fail(std::move(dest).error().wrap(range_text(i, ranges[i])));
          break;
        }
        if (!dest->has_value()) {  // no memory now: wait for an outstanding range
          --next;
          break;
        }
        started[i] = Clock::now();
        ++shared_->inflight;
        shared_->peak = std::max(shared_->peak, shared_->inflight);
        lock.unlock();
        read_(ranges[i].offset, **dest, op_cancel_, [shared = shared_, i](Status st) {
          std::lock_guard g(shared->mu);
          shared->finished.emplace(i, std::move(st));
          --shared->inflight;
          shared->cv.notify_all();
        });
        lock.lock();
      }

      // Consume finished ranges.
      bool progressed = false;
      for (auto it = shared_->finished.begin(); it != shared_->finished.end();) {
        const std::size_t i = it->first;
        if (ordered && i != delivered) break;
        Status st = std::move(it->second);
        it = shared_->finished.erase(it);
        progressed = true;
        if (!st.ok()) {
          fail(std::move(st).error().wrap(range_text(i, ranges[i])));
          continue;
        }
        if (failed) continue;
        lock.unlock();
        Status d = deliver(i, ranges[i].offset, ranges[i].length);
        lock.lock();
        ++delivered;
        if (!d.ok()) fail(std::move(d).error());
      }
      if (!failed && delivered == ranges.size()) break;
      if (failed && shared_->inflight == 0) break;
      if (progressed) continue;

      // Wait for a completion, a range deadline, or cancellation.
      Clock::time_point deadline = Clock::now() + std::chrono::hours(1);
      if (!failed) {
        for (std::size_t i = delivered; i < next; ++i) {
          if (!shared_->finished.count(i))
            deadline = std::min(deadline, started[i] + cfg_.range_timeout);
        }
      } else {
        // Waiting for in-flight ranges to honour the cancellation; warn if one does not.
        deadline = Clock::now() + cfg_.range_timeout;
      }
      const std::size_t before = shared_->finished.size();
      auto changed = [&] { return shared_->finished.size() != before; };
      // Once failed, wait without the user's token (it may be the reason we failed and would
      // wake us at once, forever): only the in-flight ranges' completions matter now.
      const bool woke =
          failed ? shared_->cv.wait_until(lock, deadline, changed)
                 : shared_->cv.wait_until(lock, user_cancel_.stop_token(), deadline, changed);
      if (woke) continue;
      if (user_cancel_.is_cancelled() && !failed) {
        fail(Error(ErrorCode::kCancelled, "download cancelled"));
        continue;
      }
      if (Clock::now() >= deadline) {
        if (failed) {
          log::warn("range engine: {} range(s) still in flight {} ms after cancellation",
                    shared_->inflight, cfg_.range_timeout.count());
          continue;
        }
        for (std::size_t i = delivered; i < next; ++i) {
          if (!shared_->finished.count(i) && Clock::now() >= started[i] + cfg_.range_timeout) {
            fail(Error(ErrorCode::kDeadlineExceeded,
                       fmt::format("{} timed out after {} ms", range_text(i, ranges[i]),
                                   cfg_.range_timeout.count())));
            break;
          }
        }
      }
    }
    if (failed) return failure;
    RangeStats stats;
    stats.bytes = size;
    stats.ranges = ranges.size();
    stats.elapsed = Clock::now() - t0;
    stats.peak_concurrency = shared_->peak;
    return stats;
  }

 private:
  const RangeEngineConfig& cfg_;
  const RangeReadFn& read_;
  CancellationToken user_cancel_;
  CancellationToken op_cancel_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

}  // namespace

Status RangeEngineConfig::validate() const {
  if (chunk_size == 0) {
    return Error(ErrorCode::kInvalidArgument, "range_engine.chunk_size must be > 0 bytes");
  }
  if (max_concurrent_ranges == 0) {
    return Error(ErrorCode::kInvalidArgument, "range_engine.max_concurrent_ranges must be >= 1");
  }
  if (range_timeout.count() <= 0) {
    return Error(ErrorCode::kInvalidArgument, "range_engine.range_timeout must be > 0 ms");
  }
  return ok_status();
}

double RangeStats::throughput_bytes_per_sec() const {
  const double s = std::chrono::duration<double>(elapsed).count();
  return s > 0 ? static_cast<double>(bytes) / s : 0.0;
}

Result<RangeStats> RangeEngine::download_into(std::uint64_t object_size, std::span<std::byte> dest,
                                              const RangeReadFn& read,
                                              const CancellationToken& cancel) {
  OMNIO_TRY(config_.validate());
  if (dest.size() != object_size) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("destination holds {} bytes but the object has {}", dest.size(), object_size));
  }
  if (object_size == 0) return RangeStats{};
  Driver d(config_, read, cancel);
  return d.run(
      object_size, /*ordered=*/false,
      [&](std::size_t, std::uint64_t off, std::size_t len,
          bool) -> Result<std::optional<std::span<std::byte>>> { return dest.subspan(off, len); },
      [](std::size_t, std::uint64_t, std::size_t) { return ok_status(); });
}

Result<RangeStats> RangeEngine::download_unordered(std::uint64_t object_size,
                                                   const RangeFetchFn& fetch,
                                                   const CancellationToken& cancel) {
  OMNIO_TRY(config_.validate());
  if (object_size == 0) return RangeStats{};
  // The Driver hands each range an empty destination; its length follows the Driver's split.
  const std::uint64_t chunk =
      object_size < config_.min_split_size ? object_size : config_.chunk_size;
  RangeReadFn read = [&fetch, object_size, chunk](std::uint64_t off, std::span<std::byte>,
                                                  const CancellationToken& c,
                                                  std::function<void(Status)> done) {
    fetch(off, std::min<std::uint64_t>(chunk, object_size - off), c, std::move(done));
  };
  Driver d(config_, read, cancel);
  return d.run(
      object_size, /*ordered=*/false,
      [](std::size_t, std::uint64_t, std::size_t,
         bool) -> Result<std::optional<std::span<std::byte>>> { return std::span<std::byte>(); },
      [](std::size_t, std::uint64_t, std::size_t) { return ok_status(); });
}

Result<RangeStats> RangeEngine::download_to_sink(std::uint64_t object_size, const RangeReadFn& read,
                                                 const ChunkSink& sink,
                                                 const BufferAllocator& alloc,
                                                 const CancellationToken& cancel) {
  OMNIO_TRY(config_.validate());
  if (object_size == 0) return RangeStats{};
  // One buffer per undelivered range; buffers come back to `free_list` when the sink lets go.
  std::mutex mu;
  std::vector<AlignedBuffer> free_list;
  std::map<std::size_t, AlignedBuffer> slots;
  Driver d(config_, read, cancel);
  return d.run(
      object_size, /*ordered=*/true,
      [&](std::size_t i, std::uint64_t, std::size_t len,
          bool may_wait) -> Result<std::optional<std::span<std::byte>>> {
        AlignedBuffer buf;
        {
          std::lock_guard g(mu);
          while (!free_list.empty()) {
            AlignedBuffer cand = std::move(free_list.back());
            free_list.pop_back();
            if (cand.capacity() >= len) {
              buf = std::move(cand);
              break;
            }
          }
        }
        if (buf.data() == nullptr) {
          // Reserve before allocating; wait for memory only when no range of ours is
          // outstanding (else our own undelivered buffers could be what the budget waits for).
          const std::uint64_t charge = budgeted_capacity(len, kRangeBufferBudgetAlignment);
          MemoryReservation r;
          if (may_wait) {
            OMNIO_ASSIGN_OR_RETURN(r, MemoryBudget::process().reserve(charge, cancel));
          } else if (auto t = MemoryBudget::process().try_reserve(charge)) {
            r = std::move(*t);
          } else {
            return std::optional<std::span<std::byte>>();
          }
          OMNIO_ASSIGN_OR_RETURN(buf, alloc(len, std::move(r)));
        }
        buf.resize(len);
        auto span = buf.span();
        std::lock_guard g(mu);
        slots.emplace(i, std::move(buf));
        return std::optional<std::span<std::byte>>(span);
      },
      [&](std::size_t i, std::uint64_t off, std::size_t len) -> Status {
        std::shared_ptr<AlignedBuffer> holder;
        {
          std::lock_guard g(mu);
          auto it = slots.find(i);
          holder = std::make_shared<AlignedBuffer>(std::move(it->second));
          slots.erase(it);
        }
        Status s = sink(off, Bytes::from_shared(holder, holder->data(), len));
        if (holder.use_count() == 1) {  // the sink kept no reference: reuse the buffer
          std::lock_guard g(mu);
          free_list.push_back(std::move(*holder));
        }
        return s;
      });
}

}  // namespace omnio
