// gs:// against the headless firebase Storage emulator (the real JSON API implementation we can
// run): more than 1,000 objects listed and deleted (the original stopped at the first page),
// anonymous access, the default read path without a metadata GET, server-side copy, and faults
// injected by tests/support/fault_proxy.py in front of it (503/429 retried, truncated or dropped
// bodies retried and never returned short, 404 not retried, failed deletes all reported).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "backends/gcs/gcs_store.h"
#include "conformance/object_store_suite.h"
#include "gcs/gcs_test_env.h"
#include "omnio/store_factory.h"
#include "support/child_server.h"
#include "support/error_checks.h"

namespace omnio {
namespace {

using conformance::pattern_bytes;
using namespace std::chrono_literals;

#define ASSERT_OK(expr)                                              \
  do {                                                               \
    auto&& r_ = (expr);                                              \
    ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().to_string(); \
  } while (0)

constexpr const char* kBucket = "omnio-gcs-tests";

class GcsEmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!srv_.skip_reason.empty()) GTEST_SKIP() << srv_.skip_reason;
    static std::atomic<int> n{0};
    prefix_ = fmt::format("gs://{}/t-{}-{}/", kBucket, ::getpid(), n++);
    store_ = make(srv_.config());
  }
  void TearDown() override {
    if (store_) (void)store_->delete_prefix(prefix_);
  }
  std::shared_ptr<ObjectStore> make(Config c) {
    c.gcs.retry.base_delay = 10ms;
    c.gcs.retry.max_delay = 100ms;
    auto s = store_for_uri("gs://x", c);
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return s.ok() ? *s : nullptr;
  }
  std::string uri(const std::string& name) const { return prefix_ + name; }

  testing::GcsEmulator srv_ = testing::gcs_server("EMULATOR");
  std::string prefix_;
  std::shared_ptr<ObjectStore> store_;
};

// Error anatomy (docs/OPERATIONS.md): a missing object's error names status, endpoint, attempts.
TEST_F(GcsEmulatorTest, MissingObjectErrorCarriesStatusAndEndpoint) {
  auto r = store_->get(uri("no-such-object"));
  ASSERT_FALSE(r.ok());
  // The emulator sends no x-guploader-uploadid (Google does) and its own reason codes.
  testing::expect_explained_not_found(r.error(), srv_.endpoint, uri("no-such-object"), "", false);
}

TEST_F(GcsEmulatorTest, ListsAndDeletesMoreThanOneThousandObjects) {
  constexpr int kObjects = 1234;
  std::atomic<int> next{0}, failed{0};
  {
    std::vector<std::jthread> workers;
    for (int t = 0; t < 8; ++t) {
      workers.emplace_back([&] {
        for (int i; (i = next++) < kObjects;) {
          if (!store_
                   ->put(uri(fmt::format("many/{:05d}", i)), Bytes::copy_of(std::string_view("x")))
                   .ok())
            ++failed;
        }
      });
    }
  }
  ASSERT_EQ(failed, 0);
  auto before = gcs_store_stats(*store_).lists;
  auto l = store_->list(uri("many/"), true);
  ASSERT_OK(l);
  ASSERT_EQ(l->size(), static_cast<std::size_t>(kObjects));
  for (int i = 0; i < kObjects; ++i) ASSERT_EQ((*l)[i], uri(fmt::format("many/{:05d}", i)));
  EXPECT_GE(gcs_store_stats(*store_).lists - before, 2u) << "more than one page";
  auto flat = store_->list(prefix_, false);
  ASSERT_OK(flat);
  EXPECT_EQ(*flat, std::vector<std::string>{uri("many/")});
  // Directories around a two-page listing: the emulator sends every common prefix of the whole
  // listing on every page, so the streamed listing must hold them back until the objects pass
  // them and drop the repeats ("+d/" sorts before the digits, "zz/" after them).
  for (const char* k : {"many/+d/1", "many/zz/1", "many/zz/2"}) {
    ASSERT_OK(store_->put(uri(k), Bytes::copy_of(std::string_view("y"))));
  }
  std::vector<std::string> want{uri("many/+d/")};
  for (int i = 0; i < kObjects; ++i) want.push_back(uri(fmt::format("many/{:05d}", i)));
  want.push_back(uri("many/zz/"));
  std::vector<std::string> streamed;
  ASSERT_OK(store_->list_stream(uri("many/"), false, [&](ListEntry&& e) {
    EXPECT_EQ(e.is_dir, e.uri.back() == '/') << e.uri;
    streamed.push_back(std::move(e.uri));
    return ok_status();
  }));
  EXPECT_EQ(streamed, want);
  auto n = store_->delete_prefix(uri("many/"));
  ASSERT_OK(n);
  EXPECT_EQ(*n, static_cast<std::uint64_t>(kObjects + 3));
  EXPECT_TRUE(store_->list(uri("many/"), true)->empty());
}

TEST_F(GcsEmulatorTest, DefaultReadPathSendsOneMediaGetAndNoMetadataGet) {
  Bytes data = pattern_bytes(3 * 1024 * 1024);
  ASSERT_OK(store_->put(uri("one"), data));
  const auto before = gcs_store_stats(*store_);
  EXPECT_EQ(*store_->get(uri("one")), data);
  const auto after = gcs_store_stats(*store_);
  EXPECT_EQ(after.media_gets - before.media_gets, 1u);
  EXPECT_EQ(after.metadata_gets - before.metadata_gets, 0u);
}

TEST_F(GcsEmulatorTest, LargeObjectThroughTheRangeEngine) {
  Config c = srv_.config();
  c.gcs.range_engine.chunk_size = 1024 * 1024;
  auto s = make(c);
  Bytes data = pattern_bytes(12 * 1024 * 1024 + 3);
  ASSERT_OK(s->put(uri("large"), data));
  EXPECT_EQ(*s->get(uri("large")), data);
  EXPECT_EQ(*s->get_range(uri("large"), 5 * 1024 * 1024 + 1, 4 * 1024 * 1024),
            data.slice(5 * 1024 * 1024 + 1, 4 * 1024 * 1024));
  std::uint64_t total = 0;
  ASSERT_OK(s->get_to_sink(uri("large"), [&](std::uint64_t off, Bytes b) {
    EXPECT_EQ(off, total);
    EXPECT_EQ(b, data.slice(off, b.size()));
    total += b.size();
    return ok_status();
  }));
  EXPECT_EQ(total, data.size());
}

// Regression (found by tests/cross/cp_matrix.sh): a stream of exactly one chunk (16 MiB, the
// single-upload threshold) was sent as a resumable session whose first chunk the emulator
// finalized, so `omnio cp` of a 16 MiB object failed. It is one upload request now.
TEST_F(GcsEmulatorTest, WriterOfExactlyTheSingleUploadThresholdIsOneRequest) {
  Bytes data = pattern_bytes(kDefaultGcsSingleUploadThreshold);
  auto w = store_->create_writer(uri("exact"));
  ASSERT_OK(w);
  for (std::size_t off = 0; off < data.size(); off += 1000000)
    ASSERT_OK((*w)->write(data.slice(off, 1000000)));
  ASSERT_OK((*w)->finalize());
  auto got = store_->get(uri("exact"));
  ASSERT_OK(got);
  EXPECT_EQ(*got, data);
}

// Regression (found by tests/gcs/sdk_gcs.sh): a content type sent as a media upload's
// Content-Type header was dropped by the emulator (objects read back as application/octet-stream).
TEST_F(GcsEmulatorTest, ContentTypeSurvivesSingleRequestUploads) {
  PutOptions o;
  o.content_type = "application/x-omnio-test";
  ASSERT_OK(store_->put(uri("ct"), pattern_bytes(1000), o));
  auto m = store_->stat(uri("ct"));
  ASSERT_OK(m);
  EXPECT_EQ(m->content_type, "application/x-omnio-test");
  EXPECT_TRUE(m->metadata.empty());
}

TEST_F(GcsEmulatorTest, BucketListingAndCopy) {
  ASSERT_OK(store_->put(uri("c/src"), pattern_bytes(5000)));
  auto b = store_->list_containers("gs://");
  ASSERT_OK(b);
  EXPECT_NE(std::find(b->begin(), b->end(), std::string("gs://") + kBucket), b->end());
  ASSERT_OK(store_->copy(uri("c/src"), uri("c/dst")));
  EXPECT_EQ(*store_->get(uri("c/dst")), pattern_bytes(5000));
}

// ---- faults
// --------------------------------------------------------------------------------------

class GcsFaults : public GcsEmulatorTest {
 protected:
  void SetUp() override {
    GcsEmulatorTest::SetUp();
    if (IsSkipped()) return;
    proxy_ = std::make_unique<testing::ChildServer>(
        std::string(OMNIO_SOURCE_DIR) + "/tests/support/fault_proxy.py",
        std::vector<std::string>{"--upstream", srv_.endpoint});
    std::sscanf(proxy_->first_line().c_str(), "FAULT_PROXY_PORT=%d FAULT_PROXY_CONTROL_PORT=%d",
                &port_, &control_);
    ASSERT_GT(port_, 0) << "the fault proxy did not start";
  }
  std::shared_ptr<ObjectStore> proxied(int attempts = 3) {
    Config c = srv_.config();
    c.gcs.endpoint = fmt::format("http://127.0.0.1:{}", port_);
    c.gcs.retry.max_attempts = attempts;
    return make(c);
  }
  void rules(const std::string& json) {
    auto r = proxy_->call("POST", fmt::format("http://127.0.0.1:{}/rules", control_), json);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }
  long stat(const std::string& field) {
    auto r = proxy_->call("GET", fmt::format("http://127.0.0.1:{}/stats", control_));
    return r.ok() ? testing::ChildServer::json_int(*r, field) : -1;
  }
  std::unique_ptr<testing::ChildServer> proxy_;
  int port_ = 0, control_ = 0;
};

TEST_F(GcsFaults, ServiceUnavailableAndTooManyRequestsAreRetried) {
  Bytes data = pattern_bytes(300000);
  ASSERT_OK(store_->put(uri("f503"), data));
  auto s = proxied();
  rules(R"([{"method":"GET","action":"error","status":503,"times":1},
            {"method":"GET","action":"error","status":429,"times":1}])");
  auto got = s->get(uri("f503"));
  ASSERT_OK(got);
  EXPECT_EQ(*got, data);
  EXPECT_EQ(stat("faults"), 2);
  EXPECT_EQ(gcs_store_stats(*s).retries, 2u);
}

TEST_F(GcsFaults, TooManyRequestsIsThrottlingNeverNotFound) {
  auto s = proxied(2);
  rules(R"([{"method":"GET","action":"error","status":429,"times":-1}])");
  auto r = s->get(uri("anything"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted) << r.error().to_string();
  EXPECT_TRUE(r.error().details().throttled) << r.error().to_string();
  EXPECT_EQ(r.error().details().attempts, 2);
  EXPECT_EQ(r.error().chain_http_status(), 429);
}

TEST_F(GcsFaults, TruncatedAndDroppedBodiesAreRetriedNeverReturnedShort) {
  Bytes data = pattern_bytes(1024 * 1024);
  ASSERT_OK(store_->put(uri("trunc"), data));
  auto s = proxied();
  rules(R"([{"method":"GET","action":"truncate","after_bytes":100000,"times":1},
            {"method":"GET","action":"drop_mid_body","after_bytes":5000,"times":1}])");
  auto got = s->get(uri("trunc"));
  ASSERT_OK(got);
  EXPECT_EQ(*got, data);
  rules(R"([{"method":"GET","action":"truncate","after_bytes":100000,"times":-1}])");
  auto bad = s->get(uri("trunc"));
  ASSERT_FALSE(bad.ok()) << "a short body must never be returned as the object";
  EXPECT_EQ(bad.error().code(), ErrorCode::kDataLoss) << bad.error().to_string();
}

TEST_F(GcsFaults, PersistentErrorsGiveUpAndNotFoundIsNotRetried) {
  auto s = proxied();
  rules(R"([{"method":"GET","action":"error","status":500,"times":-1}])");
  auto r = s->stat(uri("whatever"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(stat("faults"), 3);
  rules("[]");
  const long before = stat("forwarded");
  EXPECT_EQ(s->get(uri("missing")).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(stat("forwarded") - before, 1);
}

TEST_F(GcsFaults, EveryFailedDeleteIsReported) {
  for (int i = 0; i < 20; ++i)
    ASSERT_OK(store_->put(uri(fmt::format("d/{:02d}", i)), pattern_bytes(10)));
  auto s = proxied();
  rules(
      R"([{"method":"DELETE","path_regex":"d%2F0[0-4]$","action":"error","status":403,"times":-1}])");
  auto n = s->delete_prefix(uri("d/"));
  ASSERT_FALSE(n.ok());
  const std::string msg = n.error().to_string();
  EXPECT_NE(msg.find("5 of 20 deletes failed (15 deleted)"), std::string::npos) << msg;
  for (int i = 0; i < 5; ++i)
    EXPECT_NE(msg.find(fmt::format("d/{:02d}", i)), std::string::npos) << msg;
  auto left = store_->list(uri("d/"), true);
  ASSERT_OK(left);
  EXPECT_EQ(left->size(), 5u);
}

}  // namespace
}  // namespace omnio
