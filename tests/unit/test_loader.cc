// DataLoader: exactly-once delivery in every mode, determinism, sharding, error policies,
// retries of transient failures, request timeouts, and the seed's cancellation scenarios, on real
// files (file://) and on a deliberately slow in-memory store (a test double of our own).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "backends/file/file_store.h"
#include "core/buffer_recycler.h"
#include "omnio/loader.h"
#include "omnio/store_factory.h"
#include "unit/get_only_store.h"

namespace omnio {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testutil::GetOnlyStore;

// In-memory store with fault hooks: transient failures (first N attempts of chosen keys),
// permanent failures, and stalls that end only when the request is cancelled.
class FaultyStore final : public GetOnlyStore {
 public:
  std::map<std::string, Bytes> objects;
  std::set<std::string> transient;   // fail the first attempt with kUnavailable
  std::set<std::string> permanent;   // always kPermissionDenied
  std::set<std::string> stall_once;  // first attempt waits for cancellation
  std::atomic<bool> stall_all{false};
  std::atomic<bool> busy{false};  // each get spins for 50 us instead of sleeping, and takes no lock
  std::atomic<int> gets{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};

  Result<Bytes> get(std::string_view uri, const ReadOptions& opts) override {
    ++gets;
    int now = ++in_flight;
    for (int m = max_in_flight.load(); now > m && !max_in_flight.compare_exchange_weak(m, now);) {
    }
    struct Dec {
      std::atomic<int>& v;
      ~Dec() { --v; }
    } dec{in_flight};
    std::string key(uri);
    if (busy) {  // a page-cache read: CPU time, never a sleep
      for (auto until = Clock::now() + 50us; Clock::now() < until;) {
      }
      return objects.at(key);
    }
    bool first = false;
    {
      std::lock_guard g(mu_);
      first = attempts_[key]++ == 0;
    }
    if (stall_all || (first && stall_once.count(key))) {
      opts.cancel.sleep_for(30s);  // returns early when cancelled
      return Error(ErrorCode::kCancelled, "stalled request cancelled: " + key);
    }
    std::this_thread::sleep_for(50us);
    if (first && transient.count(key)) return Error(ErrorCode::kUnavailable, "transient: " + key);
    if (permanent.count(key)) return Error(ErrorCode::kPermissionDenied, "denied: " + key);
    auto it = objects.find(key);
    if (it == objects.end()) return Error(ErrorCode::kNotFound, "no " + key);
    return it->second;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> attempts_;
};

std::shared_ptr<FaultyStore> mem_store(std::size_t n, std::vector<std::string>& uris) {
  auto s = std::make_shared<FaultyStore>();
  uris.clear();
  for (std::size_t i = 0; i < n; ++i) {
    std::string u = fmt::format("mem://d/{:06}", i);
    s->objects[u] = Bytes::copy_of(fmt::format("item-{}", i));
    uris.push_back(u);
  }
  return s;
}

LoaderConfig conf(std::size_t batch = 16, std::size_t pool = 8) {
  auto c = LoaderConfig::Builder().batch_size(batch).pool_size(pool).build();
  EXPECT_TRUE(c.ok()) << c.error().to_string();
  return *c;
}

// Shard (rank, worker) of 4 ranks x 2 workers, shuffled.
LoaderConfig shard_conf(std::size_t rank, std::size_t worker,
                        std::optional<RetryPolicy> retry = std::nullopt) {
  LoaderConfig::Builder b;
  b.batch_size(50).pool_size(4).shuffle(true).seed(5).shard(rank, 4).worker(worker, 2);
  if (retry) b.retry(*retry);
  auto c = b.build();
  EXPECT_TRUE(c.ok()) << c.error().to_string();
  return *c;
}

// Runs one epoch; returns how often each dataset index was delivered (and the batches seen).
struct EpochResult {
  std::map<std::size_t, int> counts;
  std::vector<std::size_t> order;
  std::vector<ItemError> errors;
  std::size_t batches = 0;
  std::optional<Error> error;
};

EpochResult run_epoch(DataLoader& l, std::size_t epoch) {
  EpochResult r;
  EXPECT_TRUE(l.start_epoch(epoch).ok());
  while (true) {
    auto b = l.next();
    if (!b.ok()) {
      r.error = b.error();
      break;
    }
    if (!*b) break;
    ++r.batches;
    for (auto& it : (*b)->items) {
      ++r.counts[it.index];
      r.order.push_back(it.index);
    }
    for (auto& e : (*b)->errors) r.errors.push_back(e);
  }
  return r;
}

// ---- sampler ----

TEST(LoaderSampler, SequentialShuffledAndDeterministic) {
  LoaderOptions o;
  auto seq = sample_epoch(10, o, 0);
  EXPECT_EQ(seq, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  o.shuffle = true;
  o.seed = 42;
  auto a = sample_epoch(1000, o, 0);
  EXPECT_EQ(a, sample_epoch(1000, o, 0));  // same seed, same epoch: same order
  EXPECT_NE(a, sample_epoch(1000, o, 1));  // a new epoch reshuffles
  o.seed = 43;
  EXPECT_NE(a, sample_epoch(1000, o, 0));  // another seed, another order
  std::vector<std::size_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], i);  // a permutation
  // Pinned values: the shuffle is documented (SplitMix64 + Fisher-Yates), so it must not drift
  // between builds or machines.
  LoaderOptions p;
  p.shuffle = true;
  p.seed = 7;
  EXPECT_EQ(sample_epoch(8, p, 0), sample_epoch(8, p, 0));
  auto first = sample_epoch(8, p, 0);
  EXPECT_NE(first, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(LoaderSampler, ShardsAreDisjointAndComplete) {
  for (std::size_t n : {0u, 1u, 7u, 1000u, 1001u}) {
    std::map<std::size_t, int> seen;
    for (std::size_t rank = 0; rank < 4; ++rank) {
      for (std::size_t w = 0; w < 2; ++w) {
        LoaderOptions o;
        o.shuffle = true;
        o.seed = 9;
        o.rank = rank;
        o.world_size = 4;
        o.worker_id = w;
        o.num_workers = 2;
        for (auto i : sample_epoch(n, o, 3)) ++seen[i];
      }
    }
    ASSERT_EQ(seen.size(), n);
    for (auto& [i, c] : seen) ASSERT_EQ(c, 1) << "index " << i << " of " << n;
  }
}

TEST(LoaderSampler, DropLastKeepsWholeBatches) {
  LoaderOptions o;
  o.batch_size = 4;
  o.drop_last = true;
  EXPECT_EQ(sample_epoch(10, o, 0).size(), 8u);
  o.drop_last = false;
  EXPECT_EQ(sample_epoch(10, o, 0).size(), 10u);
}

// ---- configuration ----

TEST(LoaderConfig, BuilderRejectsNonsenseNamingTheField) {
  auto msg = [](const Result<LoaderConfig>& r) {
    return r.ok() ? std::string() : r.error().to_string();
  };
  EXPECT_NE(msg(LoaderConfig::Builder().batch_size(0).build()).find("options.batch_size"),
            std::string::npos);
  EXPECT_NE(msg(LoaderConfig::Builder().pool_size(0).build()).find("pool.pool_size"),
            std::string::npos);
  EXPECT_NE(
      msg(LoaderConfig::Builder().pool_size(kMaxLoaderPoolSize + 1).build()).find("pool.pool_size"),
      std::string::npos);
  EXPECT_NE(
      msg(LoaderConfig::Builder().readahead_batches(0).build()).find("pool.readahead_batches"),
      std::string::npos);
  EXPECT_NE(msg(LoaderConfig::Builder().shard(4, 4).build()).find("options.rank"),
            std::string::npos);
  EXPECT_NE(msg(LoaderConfig::Builder().worker(2, 2).build()).find("options.worker_id"),
            std::string::npos);
  EXPECT_NE(msg(LoaderConfig::Builder().range_chunk_size(0).build()).find("chunk"),
            std::string::npos);
  auto ok =
      LoaderConfig::Builder().batch_size(64).pool_size(16).range_chunk_size(16 * kMiB).build();
  ASSERT_TRUE(ok.ok()) << msg(ok);
  EXPECT_EQ(ok->store.direct.range_engine.chunk_size, 16 * kMiB);
  EXPECT_EQ(ok->store.s3.range_engine.chunk_size, 16 * kMiB);
}

TEST(LoaderConfig, EnvironmentOverridesDefaultsAndSettersWin) {
  setenv("OMNIO_LOADER_BATCH_SIZE", "7", 1);
  auto a = LoaderConfig::Builder().build();
  auto b = LoaderConfig::Builder().batch_size(9).build();
  setenv("OMNIO_LOADER_BATCH_SIZE", "seven", 1);
  auto c = LoaderConfig::Builder().build();
  unsetenv("OMNIO_LOADER_BATCH_SIZE");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->options.batch_size, 7u);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->options.batch_size, 9u);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().to_string().find("OMNIO_LOADER_BATCH_SIZE='seven'"), std::string::npos)
      << c.error().to_string();
}

// ---- exactly once ----

class LoaderFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("omnio-loader-{}-{}", ::getpid(), counter_++);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string make_files(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      std::ofstream(dir_ / fmt::format("f{:05}", i)) << "payload " << i;
    }
    return "file://" + dir_.string() + "/";
  }
  // Writes n files <stem>NNNN of size_of(i) patterned bytes; their contents go to `want`, and
  // their URIs are returned.
  std::vector<std::string> make_sized_files(std::string_view stem, std::size_t n,
                                            const std::function<std::size_t(std::size_t)>& size_of,
                                            std::vector<std::string>& want) {
    std::vector<std::string> uris;
    for (std::size_t i = 0; i < n; ++i) {
      std::string s(size_of(i), '\0');
      for (std::size_t k = 0; k < s.size(); ++k) s[k] = static_cast<char>((k * 31 + i * 7) & 0xFF);
      want.push_back(std::move(s));
      const auto path = dir_ / fmt::format("{}{:04}", stem, i);
      std::ofstream(path, std::ios::binary) << want.back();
      uris.push_back("file://" + path.string());
    }
    return uris;
  }
  std::filesystem::path dir_;
  static inline int counter_ = 0;
};

TEST_F(LoaderFiles, TenThousandFilesEachExactlyOnceInEveryMode) {
  const std::string prefix = make_files(10000);
  auto ds = Dataset::from_prefix(prefix);
  ASSERT_TRUE(ds.ok()) << ds.error().to_string();
  ASSERT_EQ(ds->size(), 10000u);
  for (auto order : {LoaderOptions::Order::kSampler, LoaderOptions::Order::kCompletion}) {
    auto c = LoaderConfig::Builder()
                 .batch_size(64)
                 .pool_size(16)
                 .shuffle(true)
                 .seed(1)
                 .order(order)
                 .build();
    ASSERT_TRUE(c.ok());
    auto l = DataLoader::create(*ds, *c);
    ASSERT_TRUE(l.ok());
    for (std::size_t epoch = 0; epoch < 2; ++epoch) {
      auto r = run_epoch(**l, epoch);
      ASSERT_FALSE(r.error) << r.error->to_string();
      ASSERT_EQ(r.counts.size(), 10000u);
      for (auto& [i, n] : r.counts) ASSERT_EQ(n, 1) << i;
      EXPECT_EQ(r.batches, (10000u + 63) / 64);
      if (order == LoaderOptions::Order::kSampler) {
        EXPECT_EQ(r.order, (*l)->epoch_order(epoch));
      }
    }
    auto m = (*l)->metrics();
    EXPECT_EQ(m.items, 20000u);
    EXPECT_GT(m.bytes, 20000u * 9);
    EXPECT_GT(m.items_per_second(), 0);
  }
  // Sharded: 4 ranks x 2 workers, one loader each; the union is the data set, each item once.
  std::map<std::size_t, int> all;
  for (std::size_t rank = 0; rank < 4; ++rank) {
    for (std::size_t w = 0; w < 2; ++w) {
      auto l = DataLoader::create(*ds, shard_conf(rank, w));
      ASSERT_TRUE(l.ok());
      auto r = run_epoch(**l, 0);
      ASSERT_FALSE(r.error);
      for (auto& [i, n] : r.counts) all[i] += n;
    }
  }
  ASSERT_EQ(all.size(), 10000u);
  for (auto& [i, n] : all) ASSERT_EQ(n, 1) << i;
}

// 10,000 items, 5 % of them failing their first attempt: every mode still delivers each item
// exactly once, and the retries are counted exactly.
TEST(Loader, TenThousandItemsWithFivePercentTransientFailuresExactlyOnceInEveryMode) {
  std::vector<std::string> uris;
  auto base = mem_store(10000, uris);
  RetryPolicy rp;
  rp.max_attempts = 3;
  rp.base_delay = 1ms;
  rp.max_delay = 2ms;
  const auto fresh_store = [&] {  // the transient failures fire once per store
    auto s = std::make_shared<FaultyStore>();
    s->objects = base->objects;
    for (std::size_t i = 7; i < uris.size(); i += 20) s->transient.insert(uris[i]);
    return s;
  };
  for (auto order : {LoaderOptions::Order::kSampler, LoaderOptions::Order::kCompletion}) {
    auto store = fresh_store();
    auto c = LoaderConfig::Builder()
                 .batch_size(64)
                 .pool_size(16)
                 .shuffle(true)
                 .seed(11)
                 .order(order)
                 .retry(rp)
                 .build();
    ASSERT_TRUE(c.ok());
    auto l = DataLoader::create(Dataset::with_store(store, uris), *c);
    auto r = run_epoch(**l, 0);
    ASSERT_FALSE(r.error) << r.error->to_string();
    ASSERT_EQ(r.counts.size(), 10000u);
    for (auto& [i, n] : r.counts) ASSERT_EQ(n, 1) << i;
    EXPECT_EQ((*l)->metrics().retries, 500u);
    EXPECT_EQ((*l)->metrics().errors, 0u);
    if (order == LoaderOptions::Order::kSampler) {
      EXPECT_EQ(r.order, (*l)->epoch_order(0));
    }
  }
  auto store = fresh_store();
  std::map<std::size_t, int> all;
  std::uint64_t retries = 0;
  for (std::size_t rank = 0; rank < 4; ++rank) {
    for (std::size_t w = 0; w < 2; ++w) {
      auto l = DataLoader::create(Dataset::with_store(store, uris), shard_conf(rank, w, rp));
      auto r = run_epoch(**l, 1);
      ASSERT_FALSE(r.error) << r.error->to_string();
      for (auto& [i, n] : r.counts) all[i] += n;
      retries += (*l)->metrics().retries;
    }
  }
  ASSERT_EQ(all.size(), 10000u);
  for (auto& [i, n] : all) ASSERT_EQ(n, 1) << i;
  EXPECT_EQ(retries, 500u);
}

// Items of 64 KiB and more with a listed size are read into reused buffers; an object that grew
// or shrank after the listing is still delivered whole, as it is now.
TEST_F(LoaderFiles, LargeItemsAreDeliveredWholeEvenWhenTheyChangeSizeAfterListing) {
  const auto content = [](std::size_t i, std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t k = 0; k < n; ++k) s[k] = static_cast<char>((k * 31 + i * 7) & 0xFF);
    return s;
  };
  std::vector<std::string> want;
  for (std::size_t i = 0; i < 6; ++i) {
    want.push_back(content(i, (3 << 19) + i));  // 1.5 MiB + i
    std::ofstream(dir_ / fmt::format("big{}", i), std::ios::binary) << want.back();
  }
  // Sizes as `omnio ls -r --json` listed them.
  const auto list = dir_ / "listed.json";
  {
    std::ofstream out(list);
    for (std::size_t i = 0; i < want.size(); ++i) {
      out << fmt::format(R"({{"is_dir":false,"size":{},"uri":"file://{}/big{}"}})", want[i].size(),
                         dir_.string(), i)
          << "\n";
    }
  }
  auto ds = Dataset::from_key_list(list.string());
  ASSERT_TRUE(ds.ok()) << ds.error().to_string();
  ASSERT_EQ(ds->listed_size(1), want[1].size());
  want[2] += "grown after listing";
  std::ofstream(dir_ / "big2", std::ios::binary | std::ios::app) << "grown after listing";
  want[4].resize((1 << 20) + 5);
  std::filesystem::resize_file(dir_ / "big4", want[4].size());
  auto l = DataLoader::create(*ds, conf(2, 2));
  ASSERT_TRUE(l.ok());
  for (std::size_t epoch = 0; epoch < 3; ++epoch) {
    ASSERT_TRUE((*l)->start_epoch(epoch).ok());
    std::size_t seen = 0;
    while (true) {
      auto b = (*l)->next();
      ASSERT_TRUE(b.ok()) << b.error().to_string();
      if (!*b) break;
      for (const Item& it : (*b)->items) {
        ASSERT_EQ(it.data.as_string_view(), want[it.index]) << "item " << it.index;
        ++seen;
      }
    }
    EXPECT_EQ(seen, 6u);
  }
}

// Runs one epoch: every item's bytes equal want[index], and each index delivered exactly once.
void expect_whole_and_once(DataLoader& l, std::size_t epoch, const std::vector<std::string>& want) {
  ASSERT_TRUE(l.start_epoch(epoch).ok());
  std::vector<int> seen(want.size(), 0);
  while (true) {
    auto b = l.next();
    ASSERT_TRUE(b.ok()) << b.error().to_string();
    if (!*b) break;
    for (const Item& it : (*b)->items) {
      ASSERT_EQ(it.data.as_string_view(), want[it.index]) << "item " << it.index;
      ++seen[it.index];
    }
  }
  EXPECT_EQ(seen, std::vector<int>(want.size(), 1)) << "epoch " << epoch;
}

// A plain URI list has no sizes: the loader learns each size as it reads
// (ObjectStore::get_with_buffer) and reads into its reused buffers, small and large, and an object
// that changed after the data set was made arrives as it is when read.
TEST_F(LoaderFiles, UriListItemsOfUnknownSizeAreDeliveredWholeEveryEpoch) {
  const std::vector<std::size_t> sizes = {0,         10,      70 << 10,       (128 << 10) + 1,
                                          128 << 10, 3 << 19, (3 << 19) + 77, 5 << 20};
  std::vector<std::string> want;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    std::string s(sizes[i], '\0');
    for (std::size_t k = 0; k < s.size(); ++k) s[k] = static_cast<char>((k * 13 + i * 101) & 0xFF);
    want.push_back(std::move(s));
    std::ofstream(dir_ / fmt::format("u{}", i), std::ios::binary) << want.back();
  }
  std::vector<std::string> uris;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    uris.push_back("file://" + (dir_ / fmt::format("u{}", i)).string());
  }
  auto ds = Dataset::from_uris(uris);
  ASSERT_TRUE(ds.ok()) << ds.error().to_string();
  ASSERT_EQ(ds->size(), sizes.size());
  for (std::size_t i = 0; i < ds->size(); ++i) EXPECT_FALSE(ds->listed_size(i)) << i;
  want[3] += "grown after listing";
  std::ofstream(dir_ / "u3", std::ios::binary | std::ios::app) << "grown after listing";
  want[6].resize(1 << 20);
  std::filesystem::resize_file(dir_ / "u6", want[6].size());
  for (auto order : {LoaderOptions::Order::kSampler, LoaderOptions::Order::kCompletion}) {
    auto c = LoaderConfig::Builder()
                 .batch_size(3)
                 .pool_size(4)
                 .readahead_batches(2)
                 .order(order)
                 .build();
    ASSERT_TRUE(c.ok());
    auto l = DataLoader::create(*ds, *c);
    ASSERT_TRUE(l.ok());
    for (std::size_t epoch = 0; epoch < 3; ++epoch) {
      ASSERT_NO_FATAL_FAILURE(expect_whole_and_once(**l, epoch, want));
    }
  }
}

// file:// reads a group of items of unknown size with one get_batch (one io_uring submission),
// each item expected to be as large as the worker's last one. Sizes that break that guess (larger
// than the buffer: read again; much smaller; empty) still come back whole, each item once, in
// both orders; turned off, the same epoch reads the same bytes one file at a time.
TEST_F(LoaderFiles, GroupsOfItemsOfUnknownSizeAreReadInBatchesEachWholeAndOnce) {
  const std::size_t n = 600;
  std::vector<std::string> want;
  const std::vector<std::string> uris = make_sized_files(
      "g", n,
      [](std::size_t i) -> std::size_t {
        return i % 50 == 7    ? 200 << 10  // larger than its neighbours
               : i % 50 == 20 ? 0
               : i % 10 == 3  ? 100
                              : (70 << 10) + i;
      },
      want);
  auto ds = Dataset::from_uris(uris);
  ASSERT_TRUE(ds.ok()) << ds.error().to_string();
  const ObjectStore& store = ds->store_of(0);
  if (testing::batched_file_reads_available()) {
    ASSERT_TRUE(ds->store_of(0).reads_in_batches());
  }
  for (const bool batched : {true, false}) {
    testing::disable_batched_file_reads(!batched);
    const std::uint64_t before = file_store_stats(store).batched_reads;
    for (auto order : {LoaderOptions::Order::kSampler, LoaderOptions::Order::kCompletion}) {
      auto c = LoaderConfig::Builder().batch_size(16).pool_size(2).order(order).build();
      ASSERT_TRUE(c.ok());
      auto l = DataLoader::create(*ds, *c);
      ASSERT_TRUE(l.ok());
      for (std::size_t epoch = 0; epoch < 2; ++epoch) {
        ASSERT_NO_FATAL_FAILURE(expect_whole_and_once(**l, epoch, want));
      }
    }
    const std::uint64_t read_batched = file_store_stats(store).batched_reads - before;
    if (batched && testing::batched_file_reads_available()) {
      // ~2,000 of the 2,400 reads in a release build. Groups form only while reads are fast
      // (kLoaderGroupBelow), which a sanitizer build may not be, so only "some" is asserted here;
      // the FileBatch tests pin down the batched path itself.
      EXPECT_GT(read_batched, 0u) << "of " << 4 * n << " items";
    } else if (!batched) {
      EXPECT_EQ(read_batched, 0u);
    }
  }
  testing::disable_batched_file_reads(false);
}

// A worker expects its next items to be as large as the largest of its recent ones: in a shuffled
// data set of two sizes in different buffer classes, expecting the last item's size read about a
// quarter of the items twice (a large one after a small one: the batch's read filled the small
// buffer, then the whole file was read again).
TEST_F(LoaderFiles, ItemsOfMixedSizesAreReadOnceByTheirBatch) {
  std::vector<std::string> want;
  const std::vector<std::string> uris = make_sized_files(
      "m", 512, [](std::size_t i) { return i % 2 == 0 ? (40 << 10) + i : (150 << 10) + i; }, want);
  auto ds = Dataset::from_uris(uris);
  ASSERT_TRUE(ds.ok()) << ds.error().to_string();
  const ObjectStore& store = ds->store_of(0);
  const FileStoreStats before = file_store_stats(store);
  auto c = LoaderConfig::Builder().batch_size(16).pool_size(2).shuffle(true).seed(5).build();
  ASSERT_TRUE(c.ok());
  auto l = DataLoader::create(*ds, *c);
  ASSERT_TRUE(l.ok());
  for (std::size_t epoch = 0; epoch < 2; ++epoch) {
    ASSERT_NO_FATAL_FAILURE(expect_whole_and_once(**l, epoch, want));
  }
  // Its item buffers are cut from huge-page slabs (kRecyclerSlabSize), kept while it lives.
  EXPECT_GT(BufferRecycler::live_slabs(), 0u);
  const FileStoreStats after = file_store_stats(store);
  const std::uint64_t batched = after.batched_reads - before.batched_reads;
  const std::uint64_t reread = after.batch_rereads - before.batch_rereads;
  // Groups form only while reads are fast (a sanitizer build may batch little or nothing); where
  // they do, only a worker's first groups can meet a larger item than it has seen.
  EXPECT_LE(reread, 16u) << "of " << batched + reread << " items read by batches";
}

TEST_F(LoaderFiles, DatasetFromUriFileAndFromUris) {
  const std::string prefix = make_files(5);
  auto list = dir_ / "list.txt";
  std::ofstream(list) << "# a comment\n\n"
                      << (dir_ / "f00003").string() << "\n"
                      << prefix << "f00001\r\n";
  auto ds = Dataset::from_uri_file(list.string());
  ASSERT_TRUE(ds.ok()) << ds.error().to_string();
  ASSERT_EQ(ds->size(), 2u);
  EXPECT_EQ(ds->keys()[0], "file://" + (dir_ / "f00003").string());
  auto l = DataLoader::create(*ds, conf(1, 2));
  ASSERT_TRUE(l.ok());
  ASSERT_TRUE((*l)->start_epoch(0).ok());
  auto b = (*l)->next();
  ASSERT_TRUE(b.ok() && *b);
  EXPECT_EQ((*b)->items[0].data.to_string(), "payload 3");
  EXPECT_FALSE(Dataset::from_uri_file((dir_ / "missing").string()).ok());
  auto bad = Dataset::from_uris({"nope://x"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().to_string().find("dataset item 0"), std::string::npos)
      << bad.error().to_string();
  auto empty = Dataset::from_prefix(prefix + "zzz");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalidArgument);
}

TEST(Loader, TransientFailuresAreRetriedAndTheWindowStaysFull) {
  std::vector<std::string> uris;
  auto store = mem_store(2000, uris);
  for (std::size_t i = 0; i < uris.size(); i += 20) store->transient.insert(uris[i]);  // 5 %
  RetryPolicy rp;
  rp.max_attempts = 3;
  rp.base_delay = 1ms;
  rp.max_delay = 2ms;
  auto c = LoaderConfig::Builder()
               .batch_size(32)
               .pool_size(8)
               .retry(rp)
               .order(LoaderOptions::Order::kCompletion)
               .build();
  ASSERT_TRUE(c.ok());
  auto l = DataLoader::create(Dataset::with_store(store, uris), *c);
  ASSERT_TRUE(l.ok());
  auto r = run_epoch(**l, 0);
  ASSERT_FALSE(r.error) << r.error->to_string();
  ASSERT_EQ(r.counts.size(), 2000u);
  for (auto& [i, n] : r.counts) ASSERT_EQ(n, 1);
  EXPECT_EQ((*l)->metrics().retries, 100u);
  EXPECT_EQ((*l)->metrics().errors, 0u);
  EXPECT_GE(store->max_in_flight.load(), 4);  // the pool really ran requests in parallel
  EXPECT_LE(store->max_in_flight.load(), 8);
}

// Builds `b` and a loader over `uris` of `store`; null (and a test failure) if either fails.
std::unique_ptr<DataLoader> loader_over(std::shared_ptr<ObjectStore> store,
                                        const std::vector<std::string>& uris,
                                        const LoaderConfig::Builder& b) {
  auto c = b.build();
  EXPECT_TRUE(c.ok()) << c.error().to_string();
  if (!c.ok()) return nullptr;
  auto l = DataLoader::create(Dataset::with_store(std::move(store), uris), *c);
  EXPECT_TRUE(l.ok()) << l.error().to_string();
  return l.ok() ? std::move(*l) : nullptr;
}

// A pool larger than the CPU-bound cap on this machine, and the cap (workers that read at once
// while reads do not sleep: kLoaderCpuBoundWorkersPerCpu per CPU of the affinity mask).
std::pair<std::size_t, std::size_t> cpu_bound_pool() {
  cpu_set_t set;
  CPU_ZERO(&set);
  const std::size_t cpus =
      sched_getaffinity(0, sizeof(set), &set) == 0 ? static_cast<std::size_t>(CPU_COUNT(&set)) : 1;
  return {std::min<std::size_t>(kMaxLoaderPoolSize, std::max<std::size_t>(16, 4 * cpus)),
          cpus * kLoaderCpuBoundWorkersPerCpu};
}

// PoolConfig::limit_when_cpu_bound: reads that never sleep run one worker per CPU; once they
// sleep again, the whole pool reads. Every item is still delivered exactly once.
TEST(Loader, CpuBoundReadsRunOneWorkerPerCpuAndSleepingReadsGetThePoolBack) {
  const auto [pool, cap] = cpu_bound_pool();
  ASSERT_LT(cap, pool);
  std::vector<std::string> uris;
  auto store = mem_store(6000, uris);
  store->busy = true;
  auto l = loader_over(store, uris,
                       LoaderConfig::Builder().batch_size(16).pool_size(pool).order(
                           LoaderOptions::Order::kCompletion));
  ASSERT_TRUE(l);
  ASSERT_TRUE(l->start_epoch(0).ok());
  std::map<std::size_t, int> counts;
  auto take = [&](std::size_t batches) {
    for (std::size_t i = 0; i < batches; ++i) {
      auto b = l->next();
      ASSERT_TRUE(b.ok()) << b.error().to_string();
      ASSERT_TRUE(b->has_value());
      for (auto& it : (**b).items) ++counts[it.index];
    }
  };
  // Spinning reads: the cap applies from the start and stays.
  std::size_t taken = 0;
  while (l->metrics().reading_workers != cap && taken < 100) {
    take(1);
    ++taken;
  }
  ASSERT_EQ(l->metrics().reading_workers, cap) << "after " << taken << " batches";
  take(5);  // requests claimed before the cap have ended
  store->max_in_flight = 0;
  take(50);
  EXPECT_LE(store->max_in_flight.load(), static_cast<int>(cap));
  // Reads that sleep (50 us): the whole pool again, and it is used.
  store->busy = false;
  take(60);
  EXPECT_EQ(l->metrics().reading_workers, pool);
  store->max_in_flight = 0;
  for (auto b = l->next(); b.ok() && *b; b = l->next()) {
    for (auto& it : (**b).items) ++counts[it.index];
  }
  EXPECT_GT(store->max_in_flight.load(), static_cast<int>(cap));
  ASSERT_EQ(counts.size(), uris.size());
  for (auto& [i, n] : counts) ASSERT_EQ(n, 1) << i;
  EXPECT_GE(l->metrics().reading_workers_changes, 1u);
}

// The cap must not let stalled readers hold the rest back: with both readers stuck on requests
// that never answer (and no request timeout), the parked workers read everything else.
TEST(Loader, StalledReadersUnderTheCpuBoundCapLetTheOthersRead) {
  const auto [pool, cap] = cpu_bound_pool();
  std::vector<std::string> uris;
  auto store = mem_store(4000, uris);
  store->busy = true;
  auto l = loader_over(store, uris,
                       LoaderConfig::Builder()
                           .batch_size(8)
                           .pool_size(pool)
                           .readahead_batches(64)
                           .request_timeout(0ms)
                           .order(LoaderOptions::Order::kCompletion));
  ASSERT_TRUE(l);
  ASSERT_TRUE(l->start_epoch(0).ok());
  std::size_t delivered = 0;
  while (l->metrics().reading_workers != cap && delivered < 2000) {
    auto b = l->next();
    ASSERT_TRUE(b.ok() && b->has_value());
    delivered += (**b).items.size();
  }
  ASSERT_EQ(l->metrics().reading_workers, cap);
  // From here every read stalls until it is cancelled, but only `cap` workers are reading. The
  // consumer drains what is ready, so the window has room for the parked workers.
  store->busy = false;
  store->stall_all = true;
  std::jthread consumer([&] {
    for (auto b = l->next(); b.ok() && *b; b = l->next()) {
    }
  });
  std::this_thread::sleep_for(300ms);  // > kLoaderCpuBoundStall: the watchdog lifts the cap
  EXPECT_EQ(l->metrics().reading_workers, pool);
  EXPECT_GT(store->in_flight.load(), static_cast<int>(cap));  // the parked workers are reading
  l->cancel();
}

TEST(Loader, FixedPoolKeepsEveryWorkerReadingCpuBoundItems) {
  std::vector<std::string> uris;
  auto store = mem_store(2000, uris);
  store->busy = true;
  auto l =
      loader_over(store, uris,
                  LoaderConfig::Builder().batch_size(16).pool_size(64).limit_when_cpu_bound(false));
  ASSERT_TRUE(l);
  auto r = run_epoch(*l, 0);
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.counts.size(), 2000u);
  EXPECT_EQ(l->metrics().reading_workers, 64u);
  EXPECT_EQ(l->metrics().reading_workers_changes, 0u);
}

TEST(Loader, PermanentFailuresUnderEachPolicy) {
  std::vector<std::string> uris;
  auto store = mem_store(500, uris);
  store->permanent = {uris[3], uris[250], uris[499]};
  // skip: the failed keys are reported, everything else delivered.
  {
    auto c = LoaderConfig::Builder()
                 .batch_size(10)
                 .pool_size(4)
                 .on_error(LoaderOptions::OnError::kSkip)
                 .build();
    auto l = DataLoader::create(Dataset::with_store(store, uris), *c);
    auto r = run_epoch(**l, 0);
    ASSERT_FALSE(r.error);
    EXPECT_EQ(r.counts.size(), 497u);
    ASSERT_EQ(r.errors.size(), 3u);
    std::set<std::size_t> failed;
    for (auto& e : r.errors) {
      failed.insert(e.index);
      EXPECT_EQ(e.error.code(), ErrorCode::kPermissionDenied);
      EXPECT_EQ(e.uri, uris[e.index]);
    }
    EXPECT_EQ(failed, (std::set<std::size_t>{3, 250, 499}));
    EXPECT_EQ((*l)->metrics().errors, 3u);
  }
  // deliver: the item arrives with its error in place of data.
  {
    auto c = LoaderConfig::Builder()
                 .batch_size(10)
                 .pool_size(4)
                 .on_error(LoaderOptions::OnError::kDeliver)
                 .build();
    auto l = DataLoader::create(Dataset::with_store(store, uris), *c);
    ASSERT_TRUE((*l)->start_epoch(0).ok());
    auto b = (*l)->next();
    ASSERT_TRUE(b.ok() && *b);
    ASSERT_EQ((*b)->items.size(), 10u);
    ASSERT_TRUE((*b)->items[3].error.has_value());
    EXPECT_EQ((*b)->items[3].error->code(), ErrorCode::kPermissionDenied);
    EXPECT_FALSE((*b)->items[2].error.has_value());
  }
  // fail (default): the stream ends with an error naming the item; nothing after it.
  {
    auto l = DataLoader::create(Dataset::with_store(store, uris), conf(10, 4));
    auto r = run_epoch(**l, 0);
    ASSERT_TRUE(r.error.has_value());
    EXPECT_EQ(r.error->code(), ErrorCode::kPermissionDenied);
    EXPECT_NE(r.error->to_string().find("mem://d/000"), std::string::npos) << r.error->to_string();
    auto after = (*l)->next();
    ASSERT_TRUE(after.ok());
    EXPECT_FALSE(after->has_value());
  }
}

TEST(Loader, StalledRequestHitsTheTimeoutAndIsRetried) {
  std::vector<std::string> uris;
  auto store = mem_store(20, uris);
  store->stall_once = {uris[5]};
  RetryPolicy rp;
  rp.base_delay = 1ms;
  rp.max_delay = 1ms;
  auto c =
      LoaderConfig::Builder().batch_size(5).pool_size(4).request_timeout(200ms).retry(rp).build();
  auto l = DataLoader::create(Dataset::with_store(store, uris), *c);
  const auto t0 = Clock::now();
  auto r = run_epoch(**l, 0);
  ASSERT_FALSE(r.error) << r.error->to_string();
  EXPECT_EQ(r.counts.size(), 20u);
  EXPECT_EQ((*l)->metrics().retries, 1u);
  EXPECT_LT(Clock::now() - t0, 5s);
}

// ---- cancellation (the seed's scenarios) ----

TEST(LoaderCancel, PreCancelledTokenYieldsNothing) {
  std::vector<std::string> uris;
  auto store = mem_store(100, uris);
  CancellationToken t;
  t.cancel();
  auto l = DataLoader::create(Dataset::with_store(store, uris), conf(), t);
  ASSERT_TRUE(l.ok());
  auto s = (*l)->start_epoch(0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kCancelled);
  auto b = (*l)->next();
  ASSERT_FALSE(b.ok());
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(store->gets.load(), 0);
}

TEST(LoaderCancel, CancelAfterNBatchesEndsPromptlyEvenWithStalledRequests) {
  std::vector<std::string> uris;
  auto store = mem_store(1000, uris);
  CancellationToken t;
  auto l = DataLoader::create(Dataset::with_store(store, uris), conf(10, 8), t);
  ASSERT_TRUE((*l)->start_epoch(0).ok());
  for (int i = 0; i < 3; ++i) {
    auto b = (*l)->next();
    ASSERT_TRUE(b.ok() && *b);
  }
  store->stall_all = true;  // every request from now on hangs until cancelled
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    t.cancel();
    t.cancel();  // three times is harmless
    t.cancel();
  });
  const auto t0 = Clock::now();
  Result<std::optional<Batch>> b = std::optional<Batch>();
  do {
    b = (*l)->next();
  } while (b.ok() && *b);
  const auto waited = Clock::now() - t0;
  canceller.join();
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code(), ErrorCode::kCancelled);
  EXPECT_LT(waited, 1100ms);
  // Nothing after the end, and the loader joins its threads promptly.
  EXPECT_FALSE((*l)->next().ok());
  const auto t1 = Clock::now();
  l->reset();
  EXPECT_LT(Clock::now() - t1, 1s);
}

// A store whose get() downloads through the real RangeEngine (as the network stores do for large
// objects) from ranges that are slow: each range read waits `range_delay` or until cancelled.
class SlowRangedStore final : public GetOnlyStore {
 public:
  std::uint64_t object_size = 64ull << 20;
  std::chrono::milliseconds range_delay{5000};
  std::atomic<int> ranges_started{0};
  std::atomic<int> ranges_cancelled{0};
  std::atomic<int> ranges_in_flight{0};

  Result<Bytes> get(std::string_view, const ReadOptions& opts) override {
    RangeEngineConfig rc;
    rc.chunk_size = 1 << 20;
    rc.max_concurrent_ranges = 8;
    rc.min_split_size = 1 << 20;
    RangeEngine engine(rc);
    auto buf = std::make_shared<std::vector<std::byte>>(object_size);
    std::vector<std::jthread> threads;
    std::mutex mu;
    auto r = engine.download_into(
        object_size, *buf,
        [&](std::uint64_t, std::span<std::byte> dest, const CancellationToken& cancel,
            std::function<void(Status)> done) {
          std::lock_guard g(mu);
          threads.emplace_back([this, dest, cancel, done = std::move(done)] {
            ++ranges_started;
            ++ranges_in_flight;
            const bool finished = cancel.sleep_for(range_delay);
            --ranges_in_flight;
            if (!finished) {
              ++ranges_cancelled;
              done(Error(ErrorCode::kCancelled, "range cancelled"));
              return;
            }
            std::memset(dest.data(), 7, dest.size());
            done(ok_status());
          });
        },
        opts.cancel);
    {
      std::lock_guard g(mu);
      threads.clear();  // joins
    }
    if (!r.ok()) return r.error();
    return Bytes::from_vector(std::move(*buf));
  }
};

TEST(LoaderCancel, InFlightRangeDownloadOfALargeObjectIsCancelled) {
  auto store = std::make_shared<SlowRangedStore>();
  CancellationToken t;
  auto l = DataLoader::create(Dataset::with_store(store, {"mem://d/big"}), conf(1, 1), t);
  ASSERT_TRUE(l.ok());
  ASSERT_TRUE((*l)->start_epoch(0).ok());
  std::thread canceller([&] {
    while (store->ranges_in_flight.load() < 8) std::this_thread::sleep_for(1ms);
    t.cancel();
  });
  const auto t0 = Clock::now();
  auto b = (*l)->next();
  canceller.join();
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code(), ErrorCode::kCancelled);
  const auto t1 = Clock::now();
  l->reset();  // joins the worker, which waits for the range download to unwind
  EXPECT_LT(Clock::now() - t1, 1s);
  EXPECT_LT(Clock::now() - t0, 2s);  // 64 ranges x 5 s each were never waited for
  EXPECT_EQ(store->ranges_in_flight.load(), 0);
  EXPECT_GE(store->ranges_cancelled.load(), 8);  // the ranges in flight were interrupted
  EXPECT_LT(store->ranges_started.load(), 64);   // and no new ones started
}

TEST(LoaderCancel, SharedTokenStopsTwoLoaders) {
  std::vector<std::string> uris;
  auto store = mem_store(100, uris);
  store->stall_all = true;
  CancellationToken t;
  auto a = DataLoader::create(Dataset::with_store(store, uris), conf(5, 4), t);
  auto b = DataLoader::create(Dataset::with_store(store, uris), conf(5, 4), t);
  ASSERT_TRUE((*a)->start_epoch(0).ok());
  ASSERT_TRUE((*b)->start_epoch(0).ok());
  std::atomic<int> cancelled{0};
  std::thread ta([&] {
    if (!(*a)->next().ok()) ++cancelled;
  });
  std::thread tb([&] {
    if (!(*b)->next().ok()) ++cancelled;
  });
  std::this_thread::sleep_for(50ms);
  const auto t0 = Clock::now();
  t.cancel();
  ta.join();
  tb.join();
  EXPECT_EQ(cancelled.load(), 2);
  EXPECT_LT(Clock::now() - t0, 1s);
}

TEST(LoaderCancel, NoTokenRunsToCompletionAndDestructionMidEpochIsClean) {
  std::vector<std::string> uris;
  auto store = mem_store(300, uris);
  {
    auto l = DataLoader::create(Dataset::with_store(store, uris), conf(7, 4));
    auto r = run_epoch(**l, 0);
    ASSERT_FALSE(r.error);
    EXPECT_EQ(r.counts.size(), 300u);
    EXPECT_EQ(r.batches, 43u);
  }
  store->stall_all = true;
  auto l = DataLoader::create(Dataset::with_store(store, uris), conf(7, 16));
  ASSERT_TRUE((*l)->start_epoch(0).ok());
  // 16 requests now hang in the store: one per CPU at first, then all 16 once the
  // watchdog sees reads in progress for over 50 ms (PoolConfig::limit_when_cpu_bound).
  for (auto until = Clock::now() + 2s; store->in_flight.load() < 16 && Clock::now() < until;) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(store->in_flight.load(), 16);
  const auto t0 = Clock::now();
  l->reset();
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_EQ(store->in_flight.load(), 0);
}

TEST(LoaderCancel, NewEpochAbandonsTheOldOne) {
  std::vector<std::string> uris;
  auto store = mem_store(200, uris);
  auto l = DataLoader::create(Dataset::with_store(store, uris), conf(10, 4));
  ASSERT_TRUE((*l)->start_epoch(0).ok());
  ASSERT_TRUE((*l)->next().ok());
  auto r = run_epoch(**l, 1);  // restarts cleanly
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.counts.size(), 200u);
}

TEST(LoaderMetrics, ConsumerWaitShowsALoaderBoundRun) {
  std::vector<std::string> uris;
  auto store = mem_store(64, uris);
  store->stall_once = {uris[0]};
  auto c = LoaderConfig::Builder().batch_size(8).pool_size(2).request_timeout(100ms).build();
  auto l = DataLoader::create(Dataset::with_store(store, uris), *c);
  auto r = run_epoch(**l, 0);
  ASSERT_FALSE(r.error);
  auto m = (*l)->metrics();
  EXPECT_GE(m.consumer_wait, 90ms);  // the consumer waited for the stalled first item
  EXPECT_EQ(m.batches, 8u);
  EXPECT_GT(m.latency_p99.count(), 0);
  EXPECT_LE(m.latency_p50, m.latency_p99);
}

}  // namespace
}  // namespace omnio
