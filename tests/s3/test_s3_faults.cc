// s3:// under injected faults: tests/support/fault_proxy.py sits between omnio and a real S3
// server and drops connections mid-body, answers 503 SlowDown / 500, stalls or truncates bodies.
// Shown: retried where safe, a clear typed error otherwise, never a short or corrupt result
// returned as success, multipart uploads aborted on failure, no connections left open.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

#include "backends/s3/s3_store_impl.h"
#include "conformance/object_store_suite.h"
#include "http/http_client.h"
#include "omnio/loader.h"
#include "omnio/store_factory.h"
#include "s3/s3_test_env.h"
#include "support/error_checks.h"
#include "support/fault_proxy_client.h"
#include "unit/process_budget.h"

namespace omnio {
namespace {

using namespace std::chrono_literals;
using conformance::pattern_bytes;
using testing::FaultProxy;
using testing::S3TestServer;
using Clock = std::chrono::steady_clock;

constexpr const char* kBucket = "omnio-faults";

#define ASSERT_OK(expr)                                              \
  do {                                                               \
    auto&& r_ = (expr);                                              \
    ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().to_string(); \
  } while (0)

class S3Faults : public ::testing::TestWithParam<S3TestServer> {
 protected:
  void SetUp() override {
    if (!GetParam().skip_reason.empty()) GTEST_SKIP() << GetParam().skip_reason;
    static std::atomic<int> n{0};
    prefix_ = std::string("s3://") + kBucket + "/" + GetParam().name + "-" +
              std::to_string(::getpid()) + "-" + std::to_string(n++) + "/";
    direct_ = make(GetParam().config());
    ASSERT_OK(direct_->create_container(std::string("s3://") + kBucket));
    proxy_ = std::make_unique<FaultProxy>(GetParam().endpoint);
    ASSERT_TRUE(proxy_->ok())
        << "the fault proxy did not start (python3 tests/support/fault_proxy.py)";
  }
  void TearDown() override {
    if (direct_) (void)direct_->delete_prefix(prefix_);
  }
  Config proxied(int attempts = 3) {
    Config c = GetParam().config();
    c.s3.endpoint = proxy_->endpoint();
    c.s3.retry.max_attempts = attempts;
    c.s3.retry.base_delay = 10ms;
    c.s3.retry.max_delay = 100ms;
    return c;
  }
  Config proxied_at(const std::string& endpoint, int attempts) {
    Config c = GetParam().config();
    c.s3.endpoint = endpoint;
    c.s3.retry.max_attempts = attempts;
    c.s3.retry.base_delay = 10ms;
    c.s3.retry.max_delay = 100ms;
    return c;
  }
  std::shared_ptr<ObjectStore> make(const Config& c) {
    auto s = store_for_uri("s3://x", c);
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return s.ok() ? *s : nullptr;
  }
  std::string uri(const std::string& name) const { return prefix_ + name; }
  std::vector<std::string> pending_uploads(const std::string& key_prefix) {
    auto* s3 = dynamic_cast<s3::S3Store*>(direct_.get());
    s3::Call c;
    c.bucket = kBucket;
    c.query = {{"uploads", ""}, {"prefix", key_prefix}};
    c.what = "LIST UPLOADS";
    auto r = s3->perform(std::move(c));
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (std::size_t p = r->body.find("<UploadId>"); p != std::string::npos;
         p = r->body.find("<UploadId>", p + 1)) {
      out.push_back(r->body.substr(p + 10, r->body.find("</UploadId>", p) - p - 10));
    }
    return out;
  }
  std::string key(const std::string& name) const {
    return uri(name).substr(6 + std::string(kBucket).size());
  }

  std::string prefix_;
  std::shared_ptr<ObjectStore> direct_;
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_P(S3Faults, SlowDownIsRetriedAndSucceeds) {
  Bytes data = pattern_bytes(300 * kKiB);
  ASSERT_OK(direct_->put(uri("obj"), data));
  auto store = make(proxied());
  proxy_->rules(R"([{"method":"GET","action":"slowdown","times":2}])");
  auto got = store->get(uri("obj"));
  ASSERT_OK(got);
  EXPECT_EQ(*got, data);
  EXPECT_EQ(s3_store_stats(*store).retries, 2u);
  EXPECT_EQ(proxy_->stat("faults"), 2);
}

TEST_P(S3Faults, ThrottlingIsNeverNotFound) {
  auto store = make(proxied(1));
  proxy_->rules(R"([{"method":"HEAD","action":"slowdown","times":-1}])");
  auto r = store->stat(uri("anything"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted) << r.error().to_string();
  EXPECT_EQ(r.error().http_status(), 503);
  EXPECT_NE(r.error().to_string().find("throttled"), std::string::npos) << r.error().to_string();
  auto e = store->exists(uri("anything"));
  EXPECT_FALSE(e.ok()) << "exists() must not turn throttling into 'missing'";
}

TEST_P(S3Faults, PersistentServerErrorGivesUpWithTheChain) {
  auto store = make(proxied(3));
  proxy_->rules(R"([{"method":"GET","action":"error","status":500,"times":-1}])");
  auto r = store->get(uri("obj"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable) << r.error().to_string();
  const std::string text = r.error().to_string();
  EXPECT_NE(text.find("retries exhausted after 3 attempts"), std::string::npos) << text;
  EXPECT_NE(text.find("InternalError"), std::string::npos) << text;
  EXPECT_EQ(proxy_->stat("faults"), 3);
}

TEST_P(S3Faults, TruncatedAndDroppedBodiesAreRetriedNeverReturnedShort) {
  Bytes data = pattern_bytes(3 * kMiB + 5);
  ASSERT_OK(direct_->put(uri("obj"), data));
  auto store = make(proxied());
  proxy_->rules(R"([{"method":"GET","action":"truncate","after_bytes":100000,"times":1},
                    {"method":"GET","action":"drop_mid_body","after_bytes":200000,"times":1}])");
  auto got = store->get(uri("obj"));
  ASSERT_OK(got);
  EXPECT_EQ(*got, data);
  EXPECT_EQ(s3_store_stats(*store).retries, 2u);
  // Forever: an error, never a short object.
  proxy_->rules(R"([{"method":"GET","action":"truncate","after_bytes":100000,"times":-1}])");
  auto bad = store->get(uri("obj"));
  ASSERT_FALSE(bad.ok()) << "a truncated body came back as success";
  EXPECT_TRUE(bad.error().code() == ErrorCode::kDataLoss ||
              bad.error().code() == ErrorCode::kUnavailable)
      << bad.error().to_string();
  std::vector<std::byte> buf(data.size());
  auto into = store->get_into(uri("obj"), 0, buf);
  EXPECT_FALSE(into.ok());
}

TEST_P(S3Faults, FaultsInParallelRangesAreRetried) {
  Config c = proxied();
  c.s3.range_engine.chunk_size = 256 * kKiB;
  c.s3.range_engine.min_split_size = 1;
  auto store = make(c);
  Bytes data = pattern_bytes(4 * kMiB + 17);
  ASSERT_OK(direct_->put(uri("obj"), data));
  // Faults only on later ranges (not the first, which starts at 0).
  proxy_->rules(
      R"([{"method":"GET","header":["range","^bytes=[1-9]"],"action":"drop_mid_body","after_bytes":1000,"times":3},
                    {"method":"GET","header":["range","^bytes=[1-9]"],"action":"slowdown","times":3}])");
  auto got = store->get(uri("obj"));
  ASSERT_OK(got);
  EXPECT_EQ(*got, data);
  EXPECT_EQ(s3_store_stats(*store).retries, 6u);
}

TEST_P(S3Faults, StallHitsTheStallTimeoutAndCancelIsPrompt) {
  Bytes data = pattern_bytes(1 * kMiB);
  ASSERT_OK(direct_->put(uri("obj"), data));
  Config c = proxied(1);
  c.s3.http.stall_timeout = 2s;
  auto store = make(c);
  proxy_->rules(R"([{"method":"GET","action":"stall","after_bytes":1000,"times":-1}])");
  auto t0 = Clock::now();
  auto r = store->get(uri("obj"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kDeadlineExceeded) << r.error().to_string();
  EXPECT_LT(Clock::now() - t0, 6s);
  // Cancellation interrupts a stalled request at once.
  auto patient = make(proxied(3));
  ReadOptions ro;
  std::jthread canceller([&] {
    std::this_thread::sleep_for(300ms);
    ro.cancel.cancel();
  });
  t0 = Clock::now();
  auto cr = patient->get(uri("obj"), ro);
  ASSERT_FALSE(cr.ok());
  EXPECT_EQ(cr.error().code(), ErrorCode::kCancelled) << cr.error().to_string();
  EXPECT_LT(Clock::now() - t0, 1300ms);
}

// A streamed data set whose second LIST page never comes (the proxy holds the request; the store's
// stall timeout is a minute): destroying the loader that holds the data set interrupts that
// request at once instead of waiting for the timeout. Pages of 10 keys (S3Config::list_page_size).
TEST_P(S3Faults, DestroyingALoaderInterruptsItsDataSetsStalledListing) {
  for (int i = 0; i < 11; ++i) {  // two pages of 10
    ASSERT_OK(direct_->put(uri(fmt::format("many/{:05d}", i)), Bytes::copy_of("x")));
  }
  Config c = proxied(1);
  c.s3.http.stall_timeout = 60s;
  c.s3.list_page_size = 10;
  auto store = make(c);
  proxy_->rules(
      R"([{"method":"GET","query_regex":"continuation-token","action":"stall","after_bytes":-1,"times":-1}])");
  {
    auto ds = Dataset::from_prefix_streamed(store, uri("many/"));
    ASSERT_OK(ds);
    auto conf = LoaderConfig::Builder().batch_size(5).pool_size(4).build();
    ASSERT_OK(conf);
    auto loader = DataLoader::create(std::move(*ds), *conf);
    ASSERT_OK(loader);
    ASSERT_OK((*loader)->start_epoch(0));
    for (int b = 0; b < 2; ++b) {  // the first page's 10 objects
      auto batch = (*loader)->next();
      ASSERT_OK(batch);
      ASSERT_TRUE(batch->has_value());
      ASSERT_EQ((*batch)->items.size(), 5U);
    }
    for (int i = 0; i < 500 && proxy_->stat("faults") < 1; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(proxy_->stat("faults"), 1) << "the second page request did not reach the proxy";
    const auto t0 = Clock::now();
    loader->reset();
    EXPECT_LT(Clock::now() - t0, 1s);
  }
  EXPECT_EQ(store.use_count(), 1);  // the listing thread let go of the store
}

TEST_P(S3Faults, FailedPartAbortsTheUploadAndNothingAppears) {
  auto store = make(proxied(2));
  proxy_->rules(
      R"([{"method":"PUT","query_regex":"partNumber=2&","action":"error","status":500,"times":-1}])");
  WriterOptions wo;
  wo.part_size = 5 * kMiB;
  auto w = store->create_writer(uri("mp"), wo);
  ASSERT_OK(w);
  Status s;
  for (int i = 0; i < 4 && s.ok(); ++i)
    s = (*w)->write(pattern_bytes(5 * kMiB, static_cast<std::uint64_t>(i)));
  if (s.ok()) s = (*w)->finalize();
  ASSERT_FALSE(s.ok()) << "an upload with a failed part completed";
  EXPECT_NE(s.error().to_string().find("UPLOAD PART 2"), std::string::npos)
      << s.error().to_string();
  w->reset();
  EXPECT_FALSE(*direct_->exists(uri("mp")));
  EXPECT_TRUE(pending_uploads(key("mp")).empty()) << "the failed upload was not aborted";
}

TEST_P(S3Faults, FailedCompleteNeverLeavesAnObject) {
  auto store = make(proxied(2));
  proxy_->rules(
      R"([{"method":"POST","query_regex":"^uploadId=","action":"error","status":500,"times":-1}])");
  Status s = store->put_multipart(uri("mp2"), pattern_bytes(11 * kMiB), 5 * kMiB);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().to_string().find("COMPLETE MULTIPART UPLOAD"), std::string::npos)
      << s.error().to_string();
  EXPECT_FALSE(*direct_->exists(uri("mp2")));
  EXPECT_TRUE(pending_uploads(key("mp2")).empty());
}

// A request body corrupted on the way (one bit flipped) must never be stored: with the default
// signed payload the server checks x-amz-content-sha256, answers XAmzContentSHA256Mismatch, and
// omnio re-sends the part from its buffer.
TEST_P(S3Faults, BodyCorruptedInTransitIsRejectedByTheServerAndResent) {
  if (GetParam().name == "moto") GTEST_SKIP() << "moto does not verify payload hashes";
  auto store = make(proxied());
  Bytes small = pattern_bytes(100 * kKiB, 7);
  proxy_->rules(R"([{"method":"PUT","action":"corrupt_request","after_bytes":5000,"times":1}])");
  ASSERT_OK(store->put(uri("single"), small));
  EXPECT_EQ(proxy_->stat("faults"), 1);
  EXPECT_EQ(*direct_->get(uri("single")), small);

  Bytes big = pattern_bytes(12 * kMiB, 8);
  proxy_->rules(
      R"([{"method":"PUT","query_regex":"partNumber=2&","action":"corrupt_request","after_bytes":123456,"times":2}])");
  ASSERT_OK(store->put_multipart(uri("parts"), big, 5 * kMiB));
  EXPECT_GE(s3_store_stats(*store).retries, 2u);
  EXPECT_EQ(*direct_->get(uri("parts")), big);

  // Corrupted on every attempt: a typed data-loss error, and nothing stored.
  proxy_->rules(R"([{"method":"PUT","action":"corrupt_request","times":-1}])");
  auto bad = store->put(uri("never"), small);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kDataLoss) << bad.error().to_string();
  EXPECT_NE(bad.error().to_string().find("corrupted"), std::string::npos)
      << bad.error().to_string();
  proxy_->rules("[]");
  EXPECT_FALSE(*direct_->exists(uri("never")));
}

TEST_P(S3Faults, DeadEndpointFailsFastAndConnectionsAreReleased) {
  {
    auto store = make(proxied());
    proxy_->rules(R"([{"action":"reset","times":-1}])");
    auto t0 = Clock::now();
    auto r = store->stat(uri("x"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable) << r.error().to_string();
    EXPECT_LT(Clock::now() - t0, 3s);
    proxy_->rules("[]");
    for (int i = 0; i < 20; ++i)
      ASSERT_OK(store->put(uri(fmt::format("k{}", i)), pattern_bytes(1000)));
  }
  // The store is gone: every connection it opened is closed.
  long open = -1;
  for (int i = 0; i < 40 && open != 0; ++i) {
    open = proxy_->stat("open_client_connections");
    if (open != 0) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(open, 0);
}

// Error anatomy (docs/OPERATIONS.md): a missing object's error says what the service said.
TEST_P(S3Faults, MissingObjectErrorCarriesStatusCodeRequestIdAndEndpoint) {
  auto r = direct_->get(uri("no-such-object"));
  ASSERT_FALSE(r.ok());
  testing::expect_explained_not_found(r.error(), GetParam().endpoint, uri("no-such-object"),
                                      "NoSuchKey", true);  // x-amz-request-id
}

TEST_P(S3Faults, ThrottledBurstConvergesWithEveryByteCorrect) {
  constexpr int kObjects = 40, kThrottled = 30;
  std::vector<Bytes> data;
  for (int i = 0; i < kObjects; ++i) {
    data.push_back(pattern_bytes(64 * kKiB + static_cast<std::size_t>(i)));
    ASSERT_OK(direct_->put(uri(fmt::format("t{}", i)), data.back()));
  }
  Config c = proxied(6);
  c.s3.retry.max_delay = 2s;  // Retry-After 1 s fits under the cap
  auto store = make(c);
  proxy_->rules(fmt::format(
      R"([{{"method":"GET","action":"slowdown","retry_after":1,"times":{}}}])", kThrottled));
  std::atomic<int> wrong{0};
  std::vector<std::string> errors(kObjects);
  {
    std::vector<std::jthread> burst;
    for (int i = 0; i < kObjects; ++i) {
      burst.emplace_back([&, i] {
        auto got = store->get(uri(fmt::format("t{}", i)));
        if (!got.ok()) {
          errors[static_cast<std::size_t>(i)] = got.error().to_string();
          ++wrong;
        } else if (*got != data[static_cast<std::size_t>(i)]) {
          errors[static_cast<std::size_t>(i)] = "bytes differ";
          ++wrong;
        }
      });
    }
  }
  for (const auto& e : errors) EXPECT_TRUE(e.empty()) << e;
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(proxy_->stat("faults"), kThrottled);
}

TEST_P(S3Faults, StallAndRefusedConnectionsNameTheirTransportCause) {
  ASSERT_OK(direct_->put(uri("obj"), pattern_bytes(100 * kKiB)));
  Config c = proxied(1);
  c.s3.http.stall_timeout = 1s;
  auto store = make(c);
  proxy_->rules(R"([{"method":"GET","action":"stall","after_bytes":1000,"times":-1}])");
  auto r = store->get(uri("obj"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().details().transport, TransportCause::kStallTimeout) << r.error().to_string();
  EXPECT_EQ(r.error().details().endpoint, proxy_->endpoint());
  EXPECT_NE(r.error().to_string().find("stall timeout"), std::string::npos);
  proxy_->rules("[]");
  // Nothing listens at the endpoint any more: refused, named, after every attempt.
  const std::string endpoint = proxy_->endpoint();
  proxy_.reset();
  Config dead = proxied_at(endpoint, 2);
  auto gone = make(dead)->get(uri("obj"));
  ASSERT_FALSE(gone.ok());
  const std::string text = gone.error().to_string();
  EXPECT_EQ(gone.error().details().transport, TransportCause::kConnectRefused) << text;
  EXPECT_NE(text.find("connection refused"), std::string::npos) << text;
  EXPECT_NE(text.find(endpoint), std::string::npos) << text;
  EXPECT_NE(text.find("retries exhausted after 2 attempts"), std::string::npos) << text;
}

// For the tight-budget loader tests below: a token that a hung loader's watchdog cancels after
// 60 s (so that a hang fails instead of running into ctest's timeout), and the epoch's items,
// each checked against body(i) for the index i that ends its URI; returns how many came.
class HangWatchdog {
 public:
  HangWatchdog()
      : thread_([this](std::stop_token st) {
          for (int i = 0; i < 600 && !st.stop_requested(); ++i) {
            std::this_thread::sleep_for(100ms);
          }
          if (!st.stop_requested()) token.cancel();
        }) {}
  CancellationToken token;

 private:
  std::jthread thread_;
};

int count_checked_items(DataLoader& loader, const std::function<Bytes(int)>& body) {
  int seen = 0;
  while (true) {
    auto b = loader.next();
    EXPECT_TRUE(b.ok()) << b.error().to_string();
    if (!b.ok() || !*b) break;
    for (const Item& it : (*b)->items) {
      const int i = std::stoi(it.uri.substr(it.uri.size() - 3));
      EXPECT_EQ(it.data.to_string(), body(i).to_string()) << it.uri;
      ++seen;
    }
  }
  return seen;
}

// A plain URI list gives the loader no sizes, so it learns each one inside the store's
// get_with_buffer and takes budget-charged buffers in claim order. Before S3 asked for the buffer
// it allocated its own, out of that order: while the head item's GET is slow (the proxy delays it
// 1 s), later items take all the budget and wait for the consumer, the head item waits for memory,
// and the consumer for the head item.
TEST_P(S3Faults, LoaderOfAUriListUnderATightBudgetDeliversEveryItemWhenTheHeadIsSlow) {
  constexpr int kKeys = 16;
  const auto body = [](int i) { return pattern_bytes((2 << 20) + 4096 * i, i); };
  std::vector<std::string> uris;
  for (int i = 0; i < kKeys; ++i) {
    uris.push_back(uri(fmt::format("tight/{:03d}", i)));
    ASSERT_OK(direct_->put(uris.back(), body(i)));
  }
  Config c = proxied();
  c.s3.range_engine.chunk_size = 1 << 20;  // get(): a charged first range, then charged memory
  c.s3.range_engine.min_split_size = 1 << 20;
  auto store = make(c);
  ASSERT_TRUE(store);
  testutil::ProcessBudget pb(8 << 20);  // 3 items and change; the window holds 8 positions
  auto conf = LoaderConfig::Builder().batch_size(2).pool_size(4).readahead_batches(4).build();
  ASSERT_OK(conf);
  HangWatchdog hung;
  proxy_->rules(
      R"([{"method":"GET","path_regex":"tight/000$","action":"delay","stall_seconds":1,"times":1}])");
  auto loader = DataLoader::create(Dataset::with_store(store, uris), *conf, hung.token);
  ASSERT_OK(loader);
  ASSERT_OK((*loader)->start_epoch(0));
  EXPECT_EQ(count_checked_items(**loader, body), kKeys);
  EXPECT_EQ(proxy_->stat("faults"), 1);
  EXPECT_LE(MemoryBudget::process().stats().peak, 8u << 20);
}

// The same with sizes listed: items from 64 KiB up take budget-charged buffers in claim order; a
// smaller one is read by the store. A small item at the head whose GET is slow must not wait for
// budget memory (S3's get() takes a charged first range of the chunk size) that the large items
// after it hold while they wait for the consumer.
TEST_P(S3Faults, LoaderOfMixedSizesUnderATightBudgetDeliversEveryItemWhenTheSmallHeadIsRetried) {
  constexpr int kKeys = 16;
  const auto body = [](int i) { return pattern_bytes(i == 0 ? 1000 : (2 << 20) + 4096 * i, i); };
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_OK(direct_->put(uri(fmt::format("mixed/{:03d}", i)), body(i)));
  }
  Config c = proxied();
  c.s3.range_engine.chunk_size = 1 << 20;
  c.s3.range_engine.min_split_size = 1 << 20;
  auto store = make(c);
  ASSERT_TRUE(store);
  auto ds = Dataset::from_prefix_streamed(store, uri("mixed/"));
  ASSERT_OK(ds);
  ASSERT_OK(ds->wait_listed());
  ASSERT_EQ(ds->listed_size(0), std::optional<std::uint64_t>(1000));
  testutil::ProcessBudget pb(7 << 20);  // 3 large items, and less than a 1 MiB range besides
  RetryPolicy retry;  // the loader's: a second get() of the head item, after the others took memory
  retry.max_attempts = 3;
  retry.base_delay = 300ms;
  auto conf =
      LoaderConfig::Builder().batch_size(2).pool_size(4).readahead_batches(4).retry(retry).build();
  ASSERT_OK(conf);
  HangWatchdog hung;
  proxy_->rules(R"([{"method":"GET","path_regex":"mixed/000$","action":"slowdown","times":3}])");
  auto loader = DataLoader::create(*ds, *conf, hung.token);
  ASSERT_OK(loader);
  ASSERT_OK((*loader)->start_epoch(0));
  EXPECT_EQ(count_checked_items(**loader, body), kKeys);
  EXPECT_EQ(proxy_->stat("faults"), 3);
  EXPECT_LE(MemoryBudget::process().stats().peak, 7u << 20);
}

INSTANTIATE_TEST_SUITE_P(S3, S3Faults, ::testing::ValuesIn(testing::s3_test_servers()),
                         [](const ::testing::TestParamInfo<S3TestServer>& i) {
                           return i.param.name;
                         });

}  // namespace
}  // namespace omnio
