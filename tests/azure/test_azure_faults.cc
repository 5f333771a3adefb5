// az:// under injected faults: tests/support/fault_proxy.py between omnio and Azurite answers
// 503 ServerBusy / 500, truncates or drops bodies, fails a Put Block. Shown: retried where safe,
// throttling never reported as "missing", never a short result returned as success, and a staged
// upload with a failed block commits nothing.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include "azure/azure_test_env.h"
#include "backends/azure/azure_store.h"
#include "conformance/object_store_suite.h"
#include "omnio/store_factory.h"
#include "support/fault_proxy_client.h"

namespace omnio {
namespace {

using namespace std::chrono_literals;
using conformance::pattern_bytes;
using testing::FaultProxy;

constexpr const char* kContainer = "az://devstoreaccount1/omnio-faults";

#define ASSERT_OK(expr)                                              \
  do {                                                               \
    auto&& r_ = (expr);                                              \
    ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().to_string(); \
  } while (0)

class AzureFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    srv_ = testing::azure_test_server();
    if (!srv_.skip_reason.empty()) GTEST_SKIP() << srv_.skip_reason;
    static std::atomic<int> n{0};
    prefix_ = std::string(kContainer) + "/f-" + std::to_string(::getpid()) + "-" +
              std::to_string(n++) + "/";
    direct_ = make(srv_.config());
    ASSERT_OK(direct_->create_container(kContainer));
    proxy_ = std::make_unique<FaultProxy>(srv_.endpoint);
    ASSERT_TRUE(proxy_->ok())
        << "the fault proxy did not start (python3 tests/support/fault_proxy.py)";
  }
  void TearDown() override {
    if (direct_) (void)direct_->delete_prefix(prefix_);
  }
  Config proxied(int attempts = 3) {
    Config c = srv_.config();
    c.azure.endpoint = proxy_->endpoint();
    c.azure.retry.max_attempts = attempts;
    c.azure.retry.base_delay = 10ms;
    c.azure.retry.max_delay = 100ms;
    return c;
  }
  std::shared_ptr<ObjectStore> make(const Config& c) {
    auto s = store_for_uri(kContainer, c);
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return s.ok() ? *s : nullptr;
  }
  std::string uri(const std::string& name) const { return prefix_ + name; }

  testing::AzureTestServer srv_;
  std::string prefix_;
  std::shared_ptr<ObjectStore> direct_;
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(AzureFaults, ServerBusyIsRetriedAndSucceeds) {
  Bytes data = pattern_bytes(300 * kKiB);
  ASSERT_OK(direct_->put(uri("obj"), data));
  auto store = make(proxied());
  proxy_->rules(
      R"([{"method":"GET","action":"error","status":503,"code":"ServerBusy","times":2}])");
  auto got = store->get(uri("obj"));
  ASSERT_OK(got);
  EXPECT_EQ(*got, data);
  EXPECT_EQ(azure_store_stats(*store).retries, 2u);
  EXPECT_EQ(proxy_->stat("faults"), 2);
}

TEST_F(AzureFaults, ThrottlingIsNeverNotFound) {
  auto store = make(proxied(1));
  proxy_->rules(
      R"([{"method":"HEAD","action":"error","status":503,"code":"ServerBusy","times":-1}])");
  auto r = store->stat(uri("anything"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted) << r.error().to_string();
  EXPECT_EQ(r.error().http_status(), 503);
  EXPECT_NE(r.error().to_string().find("throttled"), std::string::npos) << r.error().to_string();
  EXPECT_FALSE(store->exists(uri("anything")).ok())
      << "exists() must not turn throttling into 'missing'";
}

TEST_F(AzureFaults, PersistentServerErrorGivesUpWithTheChain) {
  auto store = make(proxied(3));
  proxy_->rules(
      R"([{"method":"GET","action":"error","status":500,"code":"InternalError","times":-1}])");
  auto r = store->get(uri("obj"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable) << r.error().to_string();
  const std::string text = r.error().to_string();
  EXPECT_NE(text.find("retries exhausted after 3 attempts"), std::string::npos) << text;
  EXPECT_NE(text.find("InternalError"), std::string::npos) << text;
  EXPECT_EQ(proxy_->stat("faults"), 3);
}

TEST_F(AzureFaults, TruncatedAndDroppedBodiesAreRetriedNeverReturnedShort) {
  Bytes data = pattern_bytes(3 * kMiB + 5);
  ASSERT_OK(direct_->put(uri("obj"), data));
  auto store = make(proxied());
  proxy_->rules(R"([{"method":"GET","action":"truncate","after_bytes":100000,"times":1},
                    {"method":"GET","action":"drop_mid_body","after_bytes":200000,"times":1}])");
  auto got = store->get(uri("obj"));
  ASSERT_OK(got);
  EXPECT_EQ(*got, data);
  EXPECT_EQ(azure_store_stats(*store).retries, 2u);
  proxy_->rules(R"([{"method":"GET","action":"truncate","after_bytes":100000,"times":-1}])");
  auto bad = store->get(uri("obj"));
  ASSERT_FALSE(bad.ok()) << "a truncated body was returned as success";
  EXPECT_NE(bad.error().code(), ErrorCode::kNotFound);
}

TEST_F(AzureFaults, FaultsInParallelRangesAreRetried) {
  Bytes data = pattern_bytes(2 * kMiB);
  ASSERT_OK(direct_->put(uri("obj"), data));
  Config c = proxied();
  c.azure.range_engine.chunk_size = 128 * 1024;
  c.azure.range_engine.min_split_size = 1;
  auto store = make(c);
  proxy_->rules(
      R"([{"method":"GET","header":["x-ms-range","bytes=524288-"],"action":"drop_mid_body","after_bytes":1000,"times":1},
                    {"method":"GET","header":["x-ms-range","bytes=1048576-"],"action":"error","status":503,"code":"ServerBusy","times":1}])");
  auto got = store->get(uri("obj"));
  ASSERT_OK(got);
  EXPECT_EQ(*got, data);
  EXPECT_EQ(proxy_->stat("faults"), 2);
}

TEST_F(AzureFaults, FailedBlockCommitsNothing) {
  auto store = make(proxied(2));
  ASSERT_OK(direct_->put(uri("mp"), Bytes::copy_of(std::string("previous"))));
  // Every Put Block fails (block ids carry a per-upload nonce, so no rule can pick one by id).
  proxy_->rules(
      R"([{"method":"PUT","query_regex":"comp=block&","action":"error","status":500,"times":-1}])");
  Status s = store->put_multipart(uri("mp"), pattern_bytes(3 * kMiB), 1 * kMiB);
  ASSERT_FALSE(s.ok()) << "an upload with failed blocks was committed";
  EXPECT_NE(s.error().to_string().find("PUT BLOCK"), std::string::npos) << s.error().to_string();
  EXPECT_EQ(*direct_->get(uri("mp")), Bytes::copy_of(std::string("previous")));
}

TEST_F(AzureFaults, FailedBlockListLeavesThePreviousBlob) {
  auto store = make(proxied(2));
  ASSERT_OK(direct_->put(uri("mp2"), Bytes::copy_of(std::string("previous"))));
  proxy_->rules(
      R"([{"method":"PUT","query_regex":"comp=blocklist","action":"error","status":500,"times":-1}])");
  Status s = store->put_multipart(uri("mp2"), pattern_bytes(3 * kMiB), 1 * kMiB);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().to_string().find("PUT BLOCK LIST"), std::string::npos)
      << s.error().to_string();
  EXPECT_EQ(*direct_->get(uri("mp2")), Bytes::copy_of(std::string("previous")));
}

}  // namespace
}  // namespace omnio
