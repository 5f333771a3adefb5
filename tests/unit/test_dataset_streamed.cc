// Streamed data sets (Dataset::from_prefix_streamed): the loader reads while the listing runs,
// each item exactly once and in the sampler's order, shards and drop_last included; a shuffled
// epoch waits for the whole listing; a listing that fails ends the epoch with its error; a data
// set destroyed mid-listing stops it. On a listing store of our own (a test double: no server
// lets a test hold a listing at a chosen entry), and on real files.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "omnio/loader.h"
#include "unit/get_only_store.h"

namespace omnio {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Lists "mem://d/000000" .. (count - 1), sizes included or not. After `gate_at` entries it waits
// until open_gate() or a cancel; after `fail_at` entries it fails with kUnavailable. `per_entry`
// slows it.
class ListingStore final : public testutil::GetOnlyStore {
 public:
  std::size_t count = 0;
  std::size_t gate_at = SIZE_MAX;
  std::size_t fail_at = SIZE_MAX;
  bool sizes = false;
  std::size_t unsized_from = SIZE_MAX;  // entries from here on come without a size
  std::chrono::microseconds per_entry{0};
  std::atomic<std::size_t> emitted{0};
  std::atomic<bool> sink_refused{false};  // the sink returned an error (the listing was stopped)
  std::atomic<bool> request_cancelled{false};  // the gate ended by the listing's cancel

  static std::string uri(std::size_t i) { return fmt::format("mem://d/{:06}", i); }

  void open_gate() {
    std::lock_guard g(mu_);
    open_ = true;
    cv_.notify_all();
  }

  Result<Bytes> get(std::string_view u, const ReadOptions&) override {
    return Bytes::copy_of(fmt::format("item {}", u.substr(8)));
  }

  // The gate stands for a page request the server does not answer: like a real store's, it ends
  // when `cancel` fires (kCancelled; seen within 1 ms), or at its timeout (3 s).
  Status list_keys_stream(std::string_view prefix, bool, const ListSink& sink,
                          const CancellationToken& cancel) override {
    if (prefix != "mem://d/") return Error(ErrorCode::kNotFound, "no such prefix");
    for (std::size_t i = 0; i < count; ++i) {
      if (i == gate_at) {
        std::unique_lock lock(mu_);
        const auto timeout = std::chrono::steady_clock::now() + 3s;
        while (!open_) {
          if (cancel.is_cancelled()) {
            request_cancelled = true;
            return Error(ErrorCode::kCancelled, "listing page request cancelled");
          }
          if (std::chrono::steady_clock::now() > timeout) {
            return Error(ErrorCode::kDeadlineExceeded, "listing page request timed out");
          }
          cv_.wait_for(lock, 1ms);
        }
      }
      if (i == fail_at) return Error(ErrorCode::kUnavailable, "listing page request failed");
      if (per_entry.count() > 0) std::this_thread::sleep_for(per_entry);
      const bool sized = sizes && i < unsized_from;
      Status st = sink(ListEntry{uri(i), sized ? 10U : 0U, false, sized});
      if (!st.ok()) {
        sink_refused = true;
        return st;
      }
      ++emitted;
    }
    return ok_status();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

std::size_t index_of(const Item& it) {
  return static_cast<std::size_t>(std::stoul(it.uri.substr(8)));
}

LoaderConfig conf(std::size_t batch, std::size_t pool = 4) {
  auto c = LoaderConfig::Builder().batch_size(batch).pool_size(pool).build();
  EXPECT_TRUE(c.ok()) << c.error().to_string();
  return *c;
}

TEST(StreamedDataset, LoaderDeliversTheListedItemsBeforeTheListingEnds) {
  auto store = std::make_shared<ListingStore>();
  store->count = 1000;
  store->gate_at = 200;
  auto ds = Dataset::from_prefix_streamed(store, "mem://d/");
  ASSERT_TRUE(ds.ok()) << ds.error().to_string();
  auto loader = DataLoader::create(*ds, conf(16));
  ASSERT_TRUE(loader.ok()) << loader.error().to_string();
  ASSERT_TRUE((*loader)->start_epoch(0).ok());
  std::vector<std::size_t> got;
  // The listing is held at 200 entries: the 12 whole batches below it arrive anyway.
  for (int b = 0; b < 12; ++b) {
    auto batch = (*loader)->next();
    ASSERT_TRUE(batch.ok()) << batch.error().to_string();
    ASSERT_TRUE(batch->has_value());
    ASSERT_EQ((*batch)->items.size(), 16U);
    for (const Item& it : (*batch)->items) {
      EXPECT_EQ(it.index, got.size());
      EXPECT_EQ(index_of(it), it.index);
      EXPECT_EQ(it.data.to_string(), fmt::format("item {:06}", it.index));
      got.push_back(it.index);
    }
  }
  EXPECT_EQ(store->emitted.load(), 200U) << "the listing went past its gate";
  store->open_gate();
  while (true) {
    auto batch = (*loader)->next();
    ASSERT_TRUE(batch.ok()) << batch.error().to_string();
    if (!batch->has_value()) break;
    for (const Item& it : (*batch)->items) got.push_back(it.index);
  }
  ASSERT_EQ(got.size(), 1000U);
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], i);
  EXPECT_EQ(ds->size(), 1000U);
  EXPECT_TRUE(ds->wait_listed().ok());
  // A second epoch over the finished listing: the same items again.
  ASSERT_TRUE((*loader)->start_epoch(1).ok());
  std::size_t second = 0;
  while (true) {
    auto batch = (*loader)->next();
    ASSERT_TRUE(batch.ok());
    if (!batch->has_value()) break;
    second += (*batch)->items.size();
  }
  EXPECT_EQ(second, 1000U);
}

// Shards, drop_last, completion order and a shuffle over a listing that trickles in: each
// delivers exactly the sampler's items (for a shuffle, its order too).
TEST(StreamedDataset, EveryModeDeliversTheSamplersItemsWhileTheListingTrickles) {
  struct Mode {
    const char* name;
    std::function<void(LoaderConfig::Builder&)> set;
    bool ordered;
  };
  const std::vector<Mode> modes = {
      {"sequential", [](LoaderConfig::Builder&) {}, true},
      {"drop_last", [](LoaderConfig::Builder& b) { b.drop_last(true); }, true},
      {"rank 1 of 3, worker 1 of 2, drop_last",
       [](LoaderConfig::Builder& b) { b.shard(1, 3).worker(1, 2).drop_last(true); }, true},
      {"rank 2 of 3", [](LoaderConfig::Builder& b) { b.shard(2, 3); }, true},
      {"completion order",
       [](LoaderConfig::Builder& b) { b.order(LoaderOptions::Order::kCompletion); }, false},
      {"shuffled", [](LoaderConfig::Builder& b) { b.shuffle(true).seed(11); }, true},
  };
  for (const Mode& m : modes) {
    SCOPED_TRACE(m.name);
    auto store = std::make_shared<ListingStore>();
    store->count = 1003;
    store->sizes = true;
    store->per_entry = 20us;
    auto ds = Dataset::from_prefix_streamed(store, "mem://d/");
    ASSERT_TRUE(ds.ok()) << ds.error().to_string();
    LoaderConfig::Builder b;
    b.batch_size(10).pool_size(3);
    m.set(b);
    auto c = b.build();
    ASSERT_TRUE(c.ok());
    auto loader = DataLoader::create(*ds, *c);
    ASSERT_TRUE(loader.ok()) << loader.error().to_string();
    ASSERT_TRUE((*loader)->start_epoch(0).ok());
    std::vector<std::size_t> got;
    std::size_t batches = 0;
    while (true) {
      auto batch = (*loader)->next();
      ASSERT_TRUE(batch.ok()) << batch.error().to_string();
      if (!batch->has_value()) break;
      ++batches;
      for (const Item& it : (*batch)->items) {
        EXPECT_EQ(index_of(it), it.index);
        got.push_back(it.index);
      }
    }
    const std::vector<std::size_t> want = sample_epoch(1003, c->options, 0);
    EXPECT_EQ((*loader)->epoch_order(0), want);
    if (!m.ordered) {
      std::sort(got.begin(), got.end());
      std::vector<std::size_t> sorted = want;
      std::sort(sorted.begin(), sorted.end());
      EXPECT_EQ(got, sorted);
    } else {
      EXPECT_EQ(got, want);
    }
    EXPECT_EQ(batches, (want.size() + 9) / 10);
  }
}

TEST(StreamedDataset, AListingThatFailsEndsTheEpochWithItsError) {
  auto store = std::make_shared<ListingStore>();
  store->count = 1000;
  store->fail_at = 300;
  store->per_entry = 10us;
  auto ds = Dataset::from_prefix_streamed(store, "mem://d/");
  ASSERT_TRUE(ds.ok()) << ds.error().to_string();
  for (auto on_error : {LoaderOptions::OnError::kFail, LoaderOptions::OnError::kSkip}) {
    auto c = LoaderConfig::Builder().batch_size(16).pool_size(4).on_error(on_error).build();
    ASSERT_TRUE(c.ok());
    auto loader = DataLoader::create(*ds, *c);
    if (!loader.ok()) {  // the listing had failed already: the loader refuses the data set
      EXPECT_NE(loader.error().to_string().find("after 300 objects"), std::string::npos)
          << loader.error().to_string();
      continue;
    }
    ASSERT_TRUE((*loader)->start_epoch(0).ok());
    std::size_t items = 0;
    std::optional<Error> err;
    while (true) {
      auto batch = (*loader)->next();
      if (!batch.ok()) {
        err = batch.error();
        break;
      }
      ASSERT_TRUE(batch->has_value()) << "the epoch ended without the listing's error";
      items += (*batch)->items.size();
    }
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->code(), ErrorCode::kUnavailable) << err->to_string();
    EXPECT_NE(err->to_string().find("after 300 objects"), std::string::npos) << err->to_string();
    EXPECT_NE(err->to_string().find("mem://d/"), std::string::npos) << err->to_string();
    EXPECT_LE(items, 300U);
    auto after = (*loader)->next();  // the epoch is over: nothing more
    ASSERT_TRUE(after.ok());
    EXPECT_FALSE(after->has_value());
  }
  const Status listed = ds->wait_listed();
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(ds->size(), 300U);
  // The blocking factory reports the failure itself.
  auto store2 = std::make_shared<ListingStore>();
  store2->count = 10;
  store2->fail_at = 5;
  auto blocking = Dataset::from_prefix_streamed(store2, "mem://d/");
  ASSERT_TRUE(blocking.ok());
  EXPECT_FALSE(blocking->wait_listed().ok());
  EXPECT_FALSE(DataLoader::create(*blocking, conf(4)).ok());
}

TEST(StreamedDataset, EmptyFailedAndInconsistentListingsAreClearErrors) {
  auto empty = std::make_shared<ListingStore>();
  auto e = Dataset::from_prefix_streamed(empty, "mem://d/");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(e.error().to_string().find("no objects under 'mem://d/'"), std::string::npos)
      << e.error().to_string();

  auto missing = Dataset::from_prefix_streamed(empty, "mem://elsewhere/");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);

  auto first = std::make_shared<ListingStore>();
  first->count = 10;
  first->fail_at = 0;
  auto f = Dataset::from_prefix_streamed(first, "mem://d/");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code(), ErrorCode::kUnavailable);

  // Sizes for the first objects, then none: the loader could not keep its memory in claim order.
  auto mixed = std::make_shared<ListingStore>();
  mixed->count = 50;
  mixed->sizes = true;
  mixed->unsized_from = 20;
  auto m = Dataset::from_prefix_streamed(mixed, "mem://d/");
  ASSERT_TRUE(m.ok());
  const Status st = m->wait_listed();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().to_string().find("gave no size for 'mem://d/000020'"), std::string::npos)
      << st.error().to_string();
  EXPECT_EQ(m->listed_size(3), std::optional<std::uint64_t>(10));
}

// A listing that never ends (10^9 objects, slowly): destroying the loader and the data set mid
// listing stops it at its next entry and joins its thread.
TEST(StreamedDataset, DestroyingTheDataSetMidListingStopsTheListing) {
  auto store = std::make_shared<ListingStore>();
  store->count = 1'000'000'000;
  store->per_entry = 50us;
  {
    auto ds = Dataset::from_prefix_streamed(store, "mem://d/");
    ASSERT_TRUE(ds.ok());
    auto loader = DataLoader::create(std::move(*ds), conf(8, 2));
    ASSERT_TRUE(loader.ok());
    ASSERT_TRUE((*loader)->start_epoch(0).ok());
    for (int b = 0; b < 3; ++b) {
      auto batch = (*loader)->next();
      ASSERT_TRUE(batch.ok());
      ASSERT_TRUE(batch->has_value());
    }
    const auto t = Clock::now();
    loader->reset();
    EXPECT_LT(Clock::now() - t, 1s);
  }
  EXPECT_TRUE(store->sink_refused.load());
  const std::size_t at_stop = store->emitted.load();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(store->emitted.load(), at_stop) << "the listing went on after its data set was gone";
  EXPECT_EQ(store.use_count(), 1);  // the listing thread let go of the store
}

// A page request the server never answers: destroying the loader and the data set interrupts it
// (the listing's cancel reaches the store) instead of waiting for the store's request timeout.
TEST(StreamedDataset, DestroyingTheDataSetInterruptsAStalledListingRequest) {
  auto store = std::make_shared<ListingStore>();
  store->count = 100;
  store->gate_at = 40;  // never opened
  {
    auto ds = Dataset::from_prefix_streamed(store, "mem://d/");
    ASSERT_TRUE(ds.ok());
    auto loader = DataLoader::create(std::move(*ds), conf(8, 2));
    ASSERT_TRUE(loader.ok());
    ASSERT_TRUE((*loader)->start_epoch(0).ok());
    for (int b = 0; b < 5; ++b) {  // items 0..39: all the listing has
      auto batch = (*loader)->next();
      ASSERT_TRUE(batch.ok());
      ASSERT_TRUE(batch->has_value());
    }
    std::this_thread::sleep_for(20ms);  // the listing is in its stalled request
    EXPECT_EQ(store->emitted.load(), 40U);
    const auto t = Clock::now();
    loader->reset();  // the loader held the last copy of the data set
    EXPECT_LT(Clock::now() - t, 1s);
  }
  EXPECT_TRUE(store->request_cancelled.load());
  EXPECT_EQ(store.use_count(), 1);  // the listing thread let go of the store
}

// The caller's token stops the listing: before its first object (the call returns kCancelled at
// once), and after it (wait_listed() and the loader's epoch end with kCancelled), the stalled page
// request interrupted both times.
TEST(StreamedDataset, TheCallersTokenStopsTheListing) {
  for (const std::size_t gate : {std::size_t{0}, std::size_t{40}}) {
    SCOPED_TRACE(gate);
    auto store = std::make_shared<ListingStore>();
    store->count = 100;
    store->gate_at = gate;  // never opened
    CancellationToken token;
    std::thread canceller([&] {
      std::this_thread::sleep_for(50ms);
      token.cancel();
    });
    const auto t = Clock::now();
    auto ds = Dataset::from_prefix_streamed(store, "mem://d/", token);
    if (gate == 0) {
      ASSERT_FALSE(ds.ok());
      EXPECT_EQ(ds.error().code(), ErrorCode::kCancelled) << ds.error().to_string();
    } else {
      ASSERT_TRUE(ds.ok());
      Status listed = ds->wait_listed();
      ASSERT_FALSE(listed.ok());
      EXPECT_EQ(listed.error().code(), ErrorCode::kCancelled) << listed.error().to_string();
      EXPECT_NE(listed.error().to_string().find("after 40 objects"), std::string::npos)
          << listed.error().to_string();
      auto loader = DataLoader::create(*ds, conf(8, 2));
      ASSERT_FALSE(loader.ok());  // a data set whose listing failed is refused
    }
    EXPECT_LT(Clock::now() - t, 1s);
    canceller.join();
    EXPECT_TRUE(store->request_cancelled.load());
    EXPECT_EQ(store->emitted.load(), gate);
  }
}

// A cancel while the consumer waits for items the listing has not produced yet.
TEST(StreamedDataset, CancelWhileWaitingForTheListingEndsPromptly) {
  auto store = std::make_shared<ListingStore>();
  store->count = 100;
  store->gate_at = 20;
  auto ds = Dataset::from_prefix_streamed(store, "mem://d/");
  ASSERT_TRUE(ds.ok());
  CancellationToken token;
  auto loader = DataLoader::create(*ds, conf(16), token);
  ASSERT_TRUE(loader.ok());
  ASSERT_TRUE((*loader)->start_epoch(0).ok());
  auto first = (*loader)->next();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());
  std::thread canceller([&] {
    std::this_thread::sleep_for(50ms);
    token.cancel();
  });
  const auto t = Clock::now();
  auto second = (*loader)->next();  // items 16..31: the listing is held at 20
  canceller.join();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), ErrorCode::kCancelled);
  EXPECT_LT(Clock::now() - t, 1s);
  store->open_gate();  // lets the listing finish, so that the data set's destruction is quick
}

// Real files: a streamed listing of a directory tree delivers every file exactly once.
TEST(StreamedDataset, FilesUnderADirectoryEachExactlyOnce) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / fmt::format("omnio-streamed-{}", ::getpid());
  fs::remove_all(dir);
  std::map<std::string, std::string> want;
  for (int d = 0; d < 4; ++d) {
    fs::create_directories(dir / fmt::format("s{}", d));
    for (int f = 0; f < 300; ++f) {
      const fs::path p = dir / fmt::format("s{}", d) / fmt::format("f{:04}", f);
      const std::string body = fmt::format("{}:{}", d, f);
      std::ofstream(p) << body;
      want["file://" + p.string()] = body;
    }
  }
  auto ds = Dataset::from_prefix_streamed("file://" + dir.string() + "/");
  ASSERT_TRUE(ds.ok()) << ds.error().to_string();
  EXPECT_FALSE(ds->listed_size(0).has_value());  // file:// listings leave sizes out
  for (auto order : {LoaderOptions::Order::kSampler, LoaderOptions::Order::kCompletion}) {
    auto c = LoaderConfig::Builder().batch_size(32).pool_size(4).order(order).build();
    ASSERT_TRUE(c.ok());
    auto loader = DataLoader::create(*ds, *c);
    ASSERT_TRUE(loader.ok()) << loader.error().to_string();
    ASSERT_TRUE((*loader)->start_epoch(0).ok());
    std::map<std::string, std::string> got;
    std::string last;
    while (true) {
      auto batch = (*loader)->next();
      ASSERT_TRUE(batch.ok()) << batch.error().to_string();
      if (!batch->has_value()) break;
      for (const Item& it : (*batch)->items) {
        EXPECT_TRUE(got.emplace(it.uri, it.data.to_string()).second) << "twice: " << it.uri;
        if (order == LoaderOptions::Order::kSampler) {
          EXPECT_LT(last, it.uri);  // listing order
          last = it.uri;
        }
      }
    }
    EXPECT_EQ(got, want);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace omnio
