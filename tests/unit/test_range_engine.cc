// RangeEngine against an in-memory source served from threads (a unit test of our own logic).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "omnio/range_engine.h"
#include "omnio/thread_pool.h"

namespace omnio {
namespace {

using namespace std::chrono_literals;

std::vector<std::byte> pattern(std::size_t n) {
  std::vector<std::byte> v(n);
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    v[i] = std::byte(x);
  }
  return v;
}

// Serves ranges of `data` on a pool, tracking concurrency; knobs inject delays and faults.
struct FakeSource {
  explicit FakeSource(std::vector<std::byte> d) : data(std::move(d)) {}
  std::vector<std::byte> data;
  ThreadPool pool{16, "fake-src"};
  std::atomic<int> inflight{0}, peak{0}, calls{0};
  std::chrono::milliseconds delay{0};
  std::atomic<int> fail_at_call{-1};
  std::atomic<int> short_at_call{-1};
  std::atomic<int> cancelled_seen{0};

  RangeReadFn fn() {
    return [this](std::uint64_t off, std::span<std::byte> dest, const CancellationToken& cancel,
                  std::function<void(Status)> done) {
      int call = calls++;
      pool.submit([=, this, done = std::move(done)] {
        int now = ++inflight;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        bool ok = delay.count() == 0 || cancel.sleep_for(delay);
        --inflight;
        if (!ok) {
          ++cancelled_seen;
          return done(Error(ErrorCode::kCancelled, "source saw cancel"));
        }
        if (call == fail_at_call) return done(Error(ErrorCode::kUnavailable, "injected failure"));
        std::size_t n = dest.size();
        if (call == short_at_call) n -= 1;
        std::memcpy(dest.data(), data.data() + off, n);
        if (n != dest.size()) {
          return done(Error(ErrorCode::kDataLoss, "short read"));
        }
        done(ok_status());
      });
    };
  }
};

RangeEngineConfig cfg(std::size_t chunk, std::size_t conc, std::uint64_t split,
                      std::chrono::milliseconds timeout = 30s) {
  return RangeEngineConfig{chunk, conc, split, timeout};
}

TEST(RangeEngine, SmallObjectIsOneRange) {
  FakeSource src(pattern(1 << 20));
  RangeEngine eng(cfg(64 << 20, 32, 4 << 20));
  std::vector<std::byte> out(src.data.size());
  auto st = eng.download_into(out.size(), out, src.fn());
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(st->ranges, 1u);
  EXPECT_EQ(src.calls, 1);
  EXPECT_EQ(out, src.data);
}

TEST(RangeEngine, TenMiBInOneMiBChunksMaxFour) {
  FakeSource src(pattern(10 << 20));
  src.delay = 20ms;  // long enough that ranges overlap
  RangeEngine eng(cfg(1 << 20, 4, 1 << 20));
  std::vector<std::byte> out(src.data.size());
  auto st = eng.download_into(out.size(), out, src.fn());
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(st->ranges, 10u);
  EXPECT_EQ(st->bytes, 10u << 20);
  EXPECT_LE(src.peak, 4);
  EXPECT_GE(src.peak, 2);
  EXPECT_LE(st->peak_concurrency, 4u);
  EXPECT_EQ(out, src.data);
}

TEST(RangeEngine, UnevenLastRange) {
  FakeSource src(pattern((3 << 20) + 12345));
  RangeEngine eng(cfg(1 << 20, 3, 0));
  std::vector<std::byte> out(src.data.size());
  auto st = eng.download_into(out.size(), out, src.fn());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->ranges, 4u);
  EXPECT_EQ(out, src.data);
}

TEST(RangeEngine, ZeroSizeIsEmptySuccess) {
  FakeSource src({});
  RangeEngine eng(cfg(1 << 20, 4, 0));
  auto st = eng.download_into(0, {}, src.fn());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->ranges, 0u);
  EXPECT_EQ(src.calls, 0);
}

TEST(RangeEngine, ShortRangeIsAnError) {
  FakeSource src(pattern(4 << 20));
  src.short_at_call = 2;
  RangeEngine eng(cfg(1 << 20, 2, 0));
  std::vector<std::byte> out(src.data.size());
  auto st = eng.download_into(out.size(), out, src.fn());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(st.error().to_string().find("range 2"), std::string::npos) << st.error().to_string();
}

TEST(RangeEngine, FirstErrorCancelsTheRest) {
  FakeSource src(pattern(32 << 20));
  src.delay = 200ms;
  src.fail_at_call = 0;
  RangeEngine eng(cfg(1 << 20, 4, 0));
  std::vector<std::byte> out(src.data.size());
  auto t0 = std::chrono::steady_clock::now();
  auto st = eng.download_into(out.size(), out, src.fn());
  ASSERT_FALSE(st.ok());
  // Range 0 sleeps its 200 ms then fails; the other three see the cancel, and no new range starts.
  EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable) << st.error().to_string();
  EXPECT_LE(src.calls, 8);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(RangeEngine, CancellationStopsDownload) {
  FakeSource src(pattern(64 << 20));
  src.delay = 10s;
  RangeEngine eng(cfg(1 << 20, 4, 0));
  CancellationToken tok;
  std::vector<std::byte> out(src.data.size());
  std::jthread canceller([&] {
    std::this_thread::sleep_for(50ms);
    tok.cancel();
  });
  auto t0 = std::chrono::steady_clock::now();
  auto st = eng.download_into(out.size(), out, src.fn(), tok);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kCancelled);
  EXPECT_NE(st.error().to_string().find("cancel"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(src.cancelled_seen, 4);  // every in-flight range was interrupted, not abandoned
  EXPECT_EQ(src.calls, 4);
}

TEST(RangeEngine, AlreadyCancelledStartsNothing) {
  FakeSource src(pattern(4 << 20));
  RangeEngine eng(cfg(1 << 20, 4, 0));
  CancellationToken tok;
  tok.cancel();
  std::vector<std::byte> out(src.data.size());
  auto st = eng.download_into(out.size(), out, src.fn(), tok);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(src.calls, 0);
}

TEST(RangeEngine, PerRangeTimeout) {
  FakeSource src(pattern(2 << 20));
  src.delay = 1000ms;
  RangeEngine eng(cfg(1 << 20, 2, 0, 100ms));
  std::vector<std::byte> out(src.data.size());
  auto t0 = std::chrono::steady_clock::now();
  auto st = eng.download_into(out.size(), out, src.fn());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_NE(st.error().to_string().find("timed out"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 900ms);
}

TEST(RangeEngine, SinkReceivesRangesInOrderWithBoundedBuffers) {
  FakeSource src(pattern((20 << 20) + 7));
  src.delay = 5ms;
  RangeEngine eng(cfg(1 << 20, 4, 0));
  std::vector<std::byte> out;
  std::uint64_t expect_off = 0;
  std::atomic<int> allocs{0};
  auto st = eng.download_to_sink(
      src.data.size(), src.fn(),
      [&](std::uint64_t off, Bytes chunk) -> Status {
        EXPECT_EQ(off, expect_off);
        expect_off += chunk.size();
        out.insert(out.end(), chunk.data(), chunk.data() + chunk.size());
        return ok_status();
      },
      [&](std::size_t n, MemoryReservation r) {
        ++allocs;
        return AlignedBuffer::allocate(n, 4096, std::move(r));
      });
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(out, src.data);
  EXPECT_EQ(st->ranges, 21u);
  EXPECT_LE(allocs, 5);  // window of 4 (+1 while the head is handed over), buffers reused
}

TEST(RangeEngine, SinkErrorStopsDownload) {
  FakeSource src(pattern(8 << 20));
  RangeEngine eng(cfg(1 << 20, 2, 0));
  int delivered = 0;
  auto st = eng.download_to_sink(
      src.data.size(), src.fn(),
      [&](std::uint64_t, Bytes) -> Status {
        if (++delivered == 3) return Error(ErrorCode::kResourceExhausted, "disk full");
        return ok_status();
      },
      [](std::size_t n, MemoryReservation r) {
        return AlignedBuffer::allocate(n, 4096, std::move(r));
      });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(delivered, 3);
}

// download_unordered: the fetch places its bytes itself (here: into `out` at their offsets, like
// a pwrite), ranges cover the object exactly once, concurrency stays bounded, errors and
// cancellation behave as in download_into.
RangeFetchFn placing_fetch(FakeSource& src, std::vector<std::byte>& out,
                           std::atomic<std::uint64_t>& placed) {
  return [&](std::uint64_t off, std::uint64_t n, const CancellationToken& cancel,
             std::function<void(Status)> done) {
    src.fn()(off, std::span<std::byte>(out).subspan(off, n), cancel,
             [&placed, n, done = std::move(done)](Status st) {
               if (st.ok()) placed += n;
               done(std::move(st));
             });
  };
}

TEST(RangeEngine, UnorderedPlacesEveryByteOnce) {
  FakeSource src(pattern((10 << 20) + 777));
  src.delay = 10ms;
  RangeEngine eng(cfg(1 << 20, 4, 1 << 20));
  std::vector<std::byte> out(src.data.size());
  std::atomic<std::uint64_t> placed{0};
  auto st = eng.download_unordered(out.size(), placing_fetch(src, out, placed));
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(st->ranges, 11u);
  EXPECT_EQ(placed.load(), out.size()) << "every byte placed exactly once";
  EXPECT_LE(src.peak, 4);
  EXPECT_EQ(out, src.data);
}

TEST(RangeEngine, UnorderedSmallObjectIsOneRange) {
  FakeSource src(pattern(100000));
  RangeEngine eng(cfg(1 << 20, 4, 1 << 20));
  std::vector<std::byte> out(src.data.size());
  std::atomic<std::uint64_t> placed{0};
  auto st = eng.download_unordered(out.size(), placing_fetch(src, out, placed));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->ranges, 1u);
  EXPECT_EQ(out, src.data);
  EXPECT_TRUE(eng.download_unordered(0, placing_fetch(src, out, placed)).ok());
}

TEST(RangeEngine, UnorderedErrorsAndCancellation) {
  FakeSource src(pattern(16 << 20));
  src.short_at_call = 3;
  RangeEngine eng(cfg(1 << 20, 4, 0));
  std::vector<std::byte> out(src.data.size());
  std::atomic<std::uint64_t> placed{0};
  auto st = eng.download_unordered(out.size(), placing_fetch(src, out, placed));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(src.inflight, 0) << "returns only after every in-flight range finished";

  FakeSource slow(pattern(16 << 20));
  slow.delay = 5s;
  CancellationToken cancel;
  std::jthread canceller([&] {
    std::this_thread::sleep_for(100ms);
    cancel.cancel();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto c = eng.download_unordered(out.size(), placing_fetch(slow, out, placed), cancel);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(RangeEngine, ConfigValidation) {
  EXPECT_FALSE(cfg(0, 4, 0).validate().ok());
  EXPECT_FALSE(cfg(1, 0, 0).validate().ok());
  EXPECT_FALSE(cfg(1, 1, 0, 0ms).validate().ok());
  EXPECT_TRUE(RangeEngineConfig{}.validate().ok());
  FakeSource src(pattern(10));
  std::vector<std::byte> out(5);
  auto st = RangeEngine(RangeEngineConfig{}).download_into(10, out, src.fn());
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace omnio
