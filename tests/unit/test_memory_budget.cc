// MemoryBudget: reservations never exceed the limit, waiters wake when memory comes back, a
// request larger than the budget fails at once, cancellation ends a wait; AlignedBuffer and
// RangeEngine draw their large buffers from the process budget.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "core/buffer_recycler.h"
#include "core/part_sink.h"
#include "omnio/aligned_buffer.h"
#include "omnio/loader.h"
#include "omnio/memory_budget.h"
#include "omnio/range_engine.h"
#include "process_budget.h"
#include "unit/get_only_store.h"

namespace omnio {
namespace {

using namespace std::chrono_literals;

using testutil::ProcessBudget;

TEST(MemoryBudget, ReserveCountsAndReleaseReturns) {
  MemoryBudget b(100);
  {
    auto r1 = b.reserve(60);
    ASSERT_TRUE(r1.ok());
    auto r2 = b.try_reserve(40);
    ASSERT_TRUE(r2.has_value());
    EXPECT_EQ(b.stats().reserved, 100u);
    EXPECT_FALSE(b.try_reserve(1).has_value());  // full
    r1->release();
    EXPECT_EQ(b.stats().reserved, 40u);
  }
  const MemoryBudgetStats s = b.stats();
  EXPECT_EQ(s.reserved, 0u);
  EXPECT_EQ(s.peak, 100u);
  EXPECT_EQ(s.reservations, 2u);
  EXPECT_EQ(s.waits, 0u);
}

TEST(MemoryBudget, LargerThanTheWholeBudgetFailsAtOnceNamingBothSizes) {
  MemoryBudget b(64 << 20);
  auto r = b.reserve(std::uint64_t{1} << 30);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(r.error().message().find("1.00 GiB"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("64.00 MiB"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("OMNIO_MEMORY_BUDGET"), std::string::npos);
}

TEST(MemoryBudget, WaiterWakesWhenMemoryComesBack) {
  MemoryBudget b(100);
  auto held = b.reserve(80);
  ASSERT_TRUE(held.ok());
  std::atomic<bool> got{false};
  std::thread t([&] {
    auto r = b.reserve(50);
    EXPECT_TRUE(r.ok());
    got = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(got.load());  // 80 + 50 > 100: still waiting
  held->release();
  t.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(b.stats().waits, 1u);
  EXPECT_GE(b.stats().wait_time, 40ms);
  EXPECT_EQ(b.stats().reserved, 0u);
}

TEST(MemoryBudget, CancelEndsAWait) {
  MemoryBudget b(100);
  auto held = b.reserve(100);
  CancellationToken cancel;
  std::thread t([&] {
    std::this_thread::sleep_for(30ms);
    cancel.cancel();
  });
  auto r = b.reserve(10, cancel);
  t.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(b.stats().reserved, 100u);  // the failed wait took nothing
}

TEST(MemoryBudget, RaisingTheLimitWakesWaiters) {
  MemoryBudget b(100);
  auto held = b.reserve(100);
  std::thread t([&] { EXPECT_TRUE(b.reserve(100).ok()); });
  std::this_thread::sleep_for(20ms);
  b.set_limit(300);
  t.join();
}

TEST(MemoryBudget, ConcurrentReservationsNeverExceedTheLimit) {
  constexpr std::uint64_t kLimit = 1000;
  MemoryBudget b(kLimit);
  std::atomic<std::uint64_t> live{0}, worst{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      for (int i = 0; i < 2000; ++i) {
        const std::uint64_t n = 1 + rng() % 400;
        auto r = b.reserve(n);
        ASSERT_TRUE(r.ok());
        const std::uint64_t now = live.fetch_add(n) + n;
        std::uint64_t w = worst.load();
        while (now > w && !worst.compare_exchange_weak(w, now)) {
        }
        live.fetch_sub(n);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(worst.load(), kLimit);
  EXPECT_LE(b.stats().peak, kLimit);
  EXPECT_EQ(b.stats().reserved, 0u);
  EXPECT_EQ(b.stats().reservations, 16000u);
}

TEST(MemoryBudget, UnlimitedCountsButNeverWaits) {
  MemoryBudget b(0);
  auto r1 = b.reserve(std::uint64_t{1} << 40);
  auto r2 = b.try_reserve(std::uint64_t{1} << 40);
  ASSERT_TRUE(r1.ok());
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(b.stats().reserved, std::uint64_t{2} << 40);
}

TEST(MemoryBudget, ParseLimit) {
  EXPECT_EQ(*MemoryBudget::parse_limit("512MiB"), 512ull << 20);
  EXPECT_EQ(*MemoryBudget::parse_limit("4g"), 4'000'000'000ull);
  EXPECT_EQ(*MemoryBudget::parse_limit("off"), 0u);
  EXPECT_EQ(*MemoryBudget::parse_limit("0"), 0u);
  auto pct = MemoryBudget::parse_limit("25%");
  ASSERT_TRUE(pct.ok());
  EXPECT_GE(*pct, kMinMemoryBudget);
  for (const char* bad : {"abc", "1k", "150%", "%", "12parsecs"}) {
    auto r = MemoryBudget::parse_limit(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(r.error().message().find(bad), std::string::npos) << r.error().message();
  }
}

TEST(MemoryBudget, DefaultIsAFractionOfMemoryAndAtLeastTheMinimum) {
  const std::uint64_t d = MemoryBudget::default_limit();
  EXPECT_GE(d, kMinMemoryBudget);
  const auto phys = static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                    static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  EXPECT_LE(d, std::max(phys, kMinMemoryBudget));
}

TEST(MemoryBudget, LargeAlignedBuffersAreChargedAndReleased) {
  ProcessBudget pb(16 << 20);
  MemoryBudget& b = MemoryBudget::process();
  {
    auto big = AlignedBuffer::allocate(4 << 20, 4096);
    ASSERT_TRUE(big.ok());
    EXPECT_EQ(b.stats().reserved, 4u << 20);
    EXPECT_EQ(big->reserved_bytes(), 4u << 20);
    auto small = AlignedBuffer::allocate(4096, 4096);  // below kLargeBufferThreshold: heap
    ASSERT_TRUE(small.ok());
    EXPECT_EQ(b.stats().reserved, 4u << 20);
    AlignedBuffer moved = std::move(*big);  // the reservation moves with the memory
    EXPECT_EQ(b.stats().reserved, 4u << 20);
    Bytes shared = Bytes::from_aligned(std::move(moved));
    EXPECT_EQ(b.stats().reserved, 4u << 20);
  }
  EXPECT_EQ(b.stats().reserved, 0u);
  auto too_big = AlignedBuffer::allocate(32 << 20, 4096);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code(), ErrorCode::kResourceExhausted);
}

TEST(MemoryBudget, AllocationWaitsForAnotherThreadsBuffer) {
  ProcessBudget pb(8 << 20);
  auto a = AlignedBuffer::allocate(6 << 20, 4096);
  ASSERT_TRUE(a.ok());
  std::thread t([&] {
    std::this_thread::sleep_for(30ms);
    *a = AlignedBuffer();  // frees the first buffer
  });
  auto b = AlignedBuffer::allocate(6 << 20, 4096);
  t.join();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(MemoryBudget::process().stats().waits, 1u);
  EXPECT_LE(MemoryBudget::process().stats().peak, 8u << 20);
}

// A streaming ranged read whose window (8 x 1 MiB) does not fit a 3 MiB budget: it finishes with
// every byte in order, never holds more than the budget, and runs fewer ranges at once.
TEST(MemoryBudget, RangeEngineStreamsWithinATightBudget) {
  ProcessBudget pb(3 << 20);
  std::vector<std::byte> data(12 << 20);  // whole 1 MiB ranges: each one is charged
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7 + i / 4096);
  RangeEngineConfig c;
  c.chunk_size = 1 << 20;
  c.max_concurrent_ranges = 8;
  c.min_split_size = 0;
  RangeEngine eng(c);
  RangeReadFn read = [&](std::uint64_t off, std::span<std::byte> dest, const CancellationToken&,
                         std::function<void(Status)> done) {
    std::thread([&data, off, dest, done = std::move(done)] {
      std::this_thread::sleep_for(2ms);
      std::memcpy(dest.data(), data.data() + off, dest.size());
      done(ok_status());
    }).detach();
  };
  std::vector<std::byte> out;
  auto st = eng.download_to_sink(
      data.size(), read,
      [&](std::uint64_t off, Bytes chunk) -> Status {
        EXPECT_EQ(off, out.size());
        out.insert(out.end(), chunk.data(), chunk.data() + chunk.size());
        return ok_status();
      },
      [](std::size_t n, MemoryReservation r) {
        return AlignedBuffer::allocate(n, 4096, std::move(r));
      });
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_TRUE(out == data);
  EXPECT_LE(MemoryBudget::process().stats().peak, 3u << 20);
  EXPECT_LE(st->peak_concurrency, 3u);
  EXPECT_EQ(MemoryBudget::process().stats().reserved, 0u);
}

// A pool's idle buffers must not starve its own next acquire: a buffer returned while someone
// waits for memory goes back to the budget. (Kept idle, this acquire would wait forever.)
TEST(MemoryBudget, RecyclerGivesReturnedBuffersToWaiters) {
  ProcessBudget pb(8 << 20);
  auto pool = BufferRecycler::create(4, 4096);
  auto held = pool->acquire(6 << 20);
  ASSERT_TRUE(held.ok());
  std::thread t([&] {
    std::this_thread::sleep_for(30ms);
    held->reset();  // back to the pool while the acquire below waits
  });
  CancellationToken give_up;
  std::thread guard([&] {
    for (int i = 0; i < 500 && !give_up.is_cancelled(); ++i) std::this_thread::sleep_for(10ms);
    give_up.cancel();
  });
  auto next = pool->acquire(6 << 20, give_up);
  give_up.cancel();
  t.join();
  guard.join();
  ASSERT_TRUE(next.ok()) << "the acquire never got the returned buffer's memory: "
                         << next.error().to_string();
}

// Idle recycled buffers keep their reservations; none may starve a wait for the budget, whoever
// waits: a second recycler's acquire, a plain allocation, or the recycler's own acquire. CI once
// hung in a loader whose worker waited for memory that its own idle buffers held: they had been
// given back between its failed try_reserve and its counting itself as a waiter.
TEST(MemoryBudget, IdleRecycledBuffersNeverStarveAWait) {
  ProcessBudget pb(8 << 20);
  MemoryBudget& budget = MemoryBudget::process();
  auto pool = BufferRecycler::create(4, 4096);
  auto other = BufferRecycler::create(4, 4096);
  const auto fill_idle = [&] {  // 4 x 2 MiB: the whole budget, idle in `pool`
    std::vector<std::shared_ptr<AlignedBuffer>> bufs;
    for (int i = 0; i < 4; ++i) {
      auto b = pool->acquire(2 << 20);
      ASSERT_TRUE(b.ok()) << b.error().to_string();
      bufs.push_back(*b);
    }
    bufs.clear();
    ASSERT_EQ(pool->idle(), 4u);
    ASSERT_EQ(budget.stats().reserved, 8u << 20);
  };
  CancellationToken give_up;  // a wait that never ends fails the test after 5 s instead of hanging
  std::thread guard([&] {
    for (int i = 0; i < 500 && !give_up.is_cancelled(); ++i) std::this_thread::sleep_for(10ms);
    give_up.cancel();
  });
  fill_idle();
  {
    auto b = other->acquire(3 << 20, give_up);
    ASSERT_TRUE(b.ok()) << "another recycler's idle buffers starved it: " << b.error().to_string();
    EXPECT_EQ(pool->idle(), 0u);
  }
  fill_idle();
  {
    auto b = AlignedBuffer::allocate(6 << 20, 4096, give_up);
    ASSERT_TRUE(b.ok()) << "idle buffers starved an allocation: " << b.error().to_string();
  }
  fill_idle();
  {
    auto b = pool->acquire(5 << 20, give_up);  // no idle buffer fits: a fresh one must wait
    ASSERT_TRUE(b.ok()) << "its own idle buffers starved it: " << b.error().to_string();
  }
  give_up.cancel();
  guard.join();
}

// A loader whose read-ahead window (16 x 2 MiB) is larger than the budget (12 MiB): it delivers
// every item in order, never holds more than the budget, and does not deadlock.
TEST(MemoryBudget, LoaderWindowLargerThanTheBudgetStillDeliversEverything) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("omnio-budget-loader-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  constexpr int kFiles = 24;
  for (int f = 0; f < kFiles; ++f) {
    std::ofstream out(dir / ("f" + std::to_string(100 + f)), std::ios::binary);
    std::string body(2 << 20, static_cast<char>('a' + f % 26));
    out << body;
  }
  {
    ProcessBudget pb(12 << 20);
    auto ds = Dataset::from_prefix("file://" + dir.string() + "/");
    ASSERT_TRUE(ds.ok()) << ds.error().to_string();
    auto conf = LoaderConfig::Builder().batch_size(2).pool_size(8).readahead_batches(8).build();
    ASSERT_TRUE(conf.ok());
    auto loader = DataLoader::create(*ds, *conf);
    ASSERT_TRUE(loader.ok());
    ASSERT_TRUE((*loader)->start_epoch(0).ok());
    int items = 0;
    while (true) {
      auto b = (*loader)->next();
      ASSERT_TRUE(b.ok()) << b.error().to_string();
      if (!*b) break;
      for (const auto& item : (*b)->items) {
        const int f = std::stoi(std::filesystem::path(item.uri).filename().string().substr(1));
        ASSERT_EQ(item.data.size(), 2u << 20);
        EXPECT_EQ(static_cast<char>(item.data[12345]), static_cast<char>('a' + (f - 100) % 26));
        ++items;
      }
      std::this_thread::sleep_for(2ms);
    }
    EXPECT_EQ(items, kFiles);
    EXPECT_LE(MemoryBudget::process().stats().peak, 12u << 20);
    EXPECT_GT(MemoryBudget::process().stats().waits, 0u);
  }
  std::filesystem::remove_all(dir);
}

// An in-memory store that, like file://, learns an object's size when it opens it and asks the
// caller for the buffer then (get_with_buffer). The first attempt at each key in `flaky` fails
// transiently after its buffer was taken; `buffers` records the buffer each key was first given.
class SizeOnOpenStore final : public testutil::GetOnlyStore {
 public:
  std::map<std::string, std::string> objects;
  std::set<std::string> flaky;
  std::mutex mu;
  std::map<std::string, const std::byte*> first_buffer;
  std::map<std::string, int> attempts;
  std::chrono::microseconds open_delay{200};  // an open and a read: other workers claim meanwhile

  std::string_view scheme() const override { return "mem"; }
  Result<Bytes> get(std::string_view uri, const ReadOptions&) override {
    return Bytes::copy_of(objects.at(std::string(uri)));
  }
  Result<Bytes> get_with_buffer(std::string_view uri, const BufferSource& buffer_for,
                                const ReadOptions& opts) override {
    const std::string key(uri);
    const std::string& body = objects.at(key);
    if (open_delay.count() > 0) std::this_thread::sleep_for(open_delay);
    OMNIO_ASSIGN_OR_RETURN(std::shared_ptr<AlignedBuffer> buf, buffer_for(body.size()));
    if (!buf) return get(uri, opts);
    EXPECT_GE(buf->capacity(), body.size());
    bool fail = false;
    {
      std::lock_guard g(mu);
      first_buffer.emplace(key, buf->data());
      fail = attempts[key]++ == 0 && flaky.count(key) != 0;
    }
    if (fail) return Error(ErrorCode::kUnavailable, "transient: " + key);
    std::memcpy(buf->data(), body.data(), body.size());
    buf->resize(body.size());
    const std::byte* data = buf->data();
    return Bytes::from_shared(std::move(buf), data, body.size());
  }
};

// Items whose sizes the data set does not know (file:// listings, URI lists) learn them only when
// the store opens them, after their claim. Budget-charged buffers must still be taken in claim
// order, or later items hold the memory an earlier one waits for while the consumer waits for
// that earlier one. Small items mixed in pass their turn without memory; large ones that fail
// transiently after taking their buffer are retried into the same buffer.
TEST(MemoryBudget, LoaderItemsOfUnknownSizeTakeBudgetMemoryInClaimOrder) {
  auto store = std::make_shared<SizeOnOpenStore>();
  std::vector<std::string> uris;
  for (int i = 0; i < 60; ++i) {
    const std::size_t size = i % 3 == 0 ? (2 << 20) + 4096 * i : i % 3 == 1 ? 100 << 10 : 300;
    std::string body(size, '\0');
    for (std::size_t k = 0; k < size; k += 997) body[k] = static_cast<char>(i * 7 + k);
    uris.push_back(fmt::format("mem://d/{:03}", i));
    store->objects[uris.back()] = std::move(body);
    if (i % 6 == 0) store->flaky.insert(uris.back());
  }
  const Dataset ds = Dataset::with_store(store, uris);
  for (auto order : {LoaderOptions::Order::kSampler, LoaderOptions::Order::kCompletion}) {
    for (int round = 0; round < 3; ++round) {
      ProcessBudget pb(8 << 20);  // 3 large items; the window holds 16 positions, ~5 large
      {
        std::lock_guard g(store->mu);
        store->attempts.clear();
        store->first_buffer.clear();
      }
      RetryPolicy retry;
      retry.max_attempts = 3;
      retry.base_delay = 1ms;
      auto conf = LoaderConfig::Builder()
                      .batch_size(2)
                      .pool_size(8)
                      .readahead_batches(8)
                      .order(order)
                      .retry(retry)
                      .build();
      ASSERT_TRUE(conf.ok()) << conf.error().to_string();
      auto loader = DataLoader::create(ds, *conf);
      ASSERT_TRUE(loader.ok());
      ASSERT_TRUE((*loader)->start_epoch(0).ok());
      std::vector<int> seen(uris.size(), 0);
      while (true) {
        auto b = (*loader)->next();
        ASSERT_TRUE(b.ok()) << b.error().to_string();
        if (!*b) break;
        for (const Item& item : (*b)->items) {
          ASSERT_EQ(item.data.as_string_view(), store->objects.at(item.uri)) << item.uri;
          if (item.data.size() >= (1 << 20) && store->flaky.count(item.uri) != 0) {
            std::lock_guard g(store->mu);
            EXPECT_EQ(store->first_buffer.at(item.uri), item.data.data())
                << item.uri << ": the retry took a second buffer";
          }
          ++seen[item.index];
        }
        std::this_thread::sleep_for(1ms);  // a consumer slower than the loader: the window fills
      }
      EXPECT_EQ(seen, std::vector<int>(uris.size(), 1));
      EXPECT_LE(MemoryBudget::process().stats().peak, 8u << 20);
      EXPECT_EQ((*loader)->metrics().retries, 10u);
    }
  }
}

// A worker that claimed a group of items of unknown size hands over the ones it has read before
// it waits for a budget-charged buffer for the next. Held back until the whole group was read,
// they were what the consumer needed before it could free the memory that worker waited for: one
// worker reading groups of 4 under a budget of one large item stopped for good at the second.
TEST(MemoryBudget, AGroupsReadItemsAreHandedOverBeforeItWaitsForMemory) {
  auto store = std::make_shared<SizeOnOpenStore>();
  store->open_delay = 0us;  // every read fast (kLoaderGroupBelow): groups of 4 form surely
  std::vector<std::string> uris;
  for (int i = 0; i < 30; ++i) {
    // Small items first: fast reads, so the worker claims groups; then large ones.
    const std::size_t size = i < 12 ? (100 << 10) + i : (2 << 20) + i;
    uris.push_back(fmt::format("mem://g/{:03}", i));
    store->objects[uris.back()] = std::string(size, static_cast<char>('A' + i));
  }
  ProcessBudget pb(3 << 20);  // one large item
  auto conf = LoaderConfig::Builder().batch_size(1).pool_size(1).readahead_batches(8).build();
  ASSERT_TRUE(conf.ok()) << conf.error().to_string();
  CancellationToken cancel;
  auto loader = DataLoader::create(Dataset::with_store(store, uris), *conf, cancel);
  ASSERT_TRUE(loader.ok());
  // A stopped loader would hang the test: after 30 s it is cancelled, and the test fails.
  CancellationToken done;
  std::jthread guard([&] {
    if (done.sleep_for(30s)) cancel.cancel();
  });
  ASSERT_TRUE((*loader)->start_epoch(0).ok());
  std::vector<int> seen(uris.size(), 0);
  while (true) {
    auto b = (*loader)->next();
    ASSERT_FALSE(cancel.is_cancelled())
        << "the loader stopped waiting for memory that its own group held";
    ASSERT_TRUE(b.ok()) << b.error().to_string();
    if (!*b) break;
    for (const Item& item : (*b)->items) {
      EXPECT_EQ(item.data.as_string_view(), store->objects.at(item.uri)) << item.uri;
      ++seen[item.index];
    }
  }
  done.cancel();
  EXPECT_EQ(seen, std::vector<int>(uris.size(), 1));
  EXPECT_LE(MemoryBudget::process().stats().peak, 3u << 20);
}

// An item of unknown size larger than the whole budget fails at once in its turn
// (kResourceExhausted, not retried); its turn still passes exactly once, so under the skip policy
// every other item is delivered (passing it twice stalled every later large item).
TEST(MemoryBudget, LoaderItemOfUnknownSizeLargerThanTheBudgetFailsAlone) {
  auto store = std::make_shared<SizeOnOpenStore>();
  std::vector<std::string> uris;
  for (int i = 0; i < 24; ++i) {
    const std::size_t size = i == 5 ? (20 << 20) : (2 << 20);
    uris.push_back(fmt::format("mem://big/{:03}", i));
    store->objects[uris.back()] = std::string(size, static_cast<char>('a' + i));
  }
  ProcessBudget pb(8 << 20);
  auto conf = LoaderConfig::Builder()
                  .batch_size(2)
                  .pool_size(4)
                  .readahead_batches(4)
                  .on_error(LoaderOptions::OnError::kSkip)
                  .build();
  ASSERT_TRUE(conf.ok());
  auto loader = DataLoader::create(Dataset::with_store(store, uris), *conf);
  ASSERT_TRUE(loader.ok());
  ASSERT_TRUE((*loader)->start_epoch(0).ok());
  std::vector<int> seen(uris.size(), 0);
  std::vector<ItemError> errors;
  while (true) {
    auto b = (*loader)->next();
    ASSERT_TRUE(b.ok()) << b.error().to_string();
    if (!*b) break;
    for (const Item& item : (*b)->items) {
      ASSERT_EQ(item.data.as_string_view(), store->objects.at(item.uri));
      ++seen[item.index];
    }
    for (const ItemError& e : (*b)->errors) errors.push_back(e);
  }
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].index, 5u);
  EXPECT_EQ(errors[0].error.code(), ErrorCode::kResourceExhausted) << errors[0].error.to_string();
  EXPECT_NE(errors[0].error.to_string().find(uris[5]), std::string::npos)
      << errors[0].error.to_string();
  std::vector<int> want(uris.size(), 1);
  want[5] = 0;
  EXPECT_EQ(seen, want);
}

// A streaming upload waiting for part memory (the budget held elsewhere) ends with kCancelled
// when the writer's token fires, instead of waiting for memory that may never come back.
TEST(MemoryBudget, PartSinkWaitForPartMemoryEndsOnCancel) {
  ProcessBudget pb(4 << 20);
  auto held = AlignedBuffer::allocate(4 << 20, 4096);  // the whole budget, held by "someone else"
  ASSERT_TRUE(held.ok());
  CancellationToken cancel;
  PartSink::Ops ops;
  ops.part_size = [](std::size_t) { return std::size_t{2} << 20; };
  ops.start = [] { return ok_status(); };
  ops.send_part = [](int, std::span<const std::byte>, std::shared_ptr<const void>) {
    return ok_status();
  };
  ops.complete = [](std::uint64_t, int) { return ok_status(); };
  ops.single_put = [](const Bytes&) { return ok_status(); };
  ops.abort = [] { return ok_status(); };
  ops.cancel = cancel;
  PartSink sink(std::move(ops));
  std::thread t([&] {
    std::this_thread::sleep_for(50ms);
    cancel.cancel();
  });
  std::vector<std::byte> data(1024, std::byte{1});
  const auto start = std::chrono::steady_clock::now();
  Status s = sink.append(data);
  t.join();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(sink.abort().ok());
}

}  // namespace
}  // namespace omnio
