// Entra ID client-secret tokens against a scripted local token endpoint: the form sent, caching,
// refresh before expiry, typed errors that never contain the secret, and the bearer header on
// storage requests.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>

#include "backends/azure/azure_token.h"
#include "omnio/store_factory.h"
#include "support/scripted_http_server.h"

namespace omnio::azure {
namespace {

using omnio::testing::ScriptedHttpServer;
using omnio::testing::ScriptedReply;
using omnio::testing::ScriptedRequest;

std::shared_ptr<http::HttpClient> client() {
  auto c = http::HttpClient::create(http::HttpConfig{});
  EXPECT_TRUE(c.ok());
  return *c;
}

ClientSecretCredential cred(const ScriptedHttpServer& srv) {
  std::string base = srv.url("");
  return {base, "tenant-1", "client-1", "se cret&=", "https://storage.azure.com/.default"};
}

TEST(AzureToken, RequestsCachesAndRefreshesBeforeExpiry) {
  std::atomic<int> n{0};
  std::mutex mu;  // the server thread writes, the test reads
  std::string last_target, last_body, last_type;
  std::atomic<long> expires{3600};
  ScriptedHttpServer srv([&](const ScriptedRequest& r) {
    std::lock_guard g(mu);
    ++n;
    last_target = r.target;
    last_body = r.body;
    last_type = r.headers.count("content-type") ? r.headers.at("content-type") : "";
    return ScriptedReply{
        200,
        {{"Content-Type", "application/json"}},
        "{\"token_type\":\"Bearer\",\"expires_in\":" + std::to_string(expires.load()) +
            ",\"access_token\":\"tok-" + std::to_string(n.load()) + "\"}"};
  });
  TokenProvider p(client(), RetryPolicy{}, cred(srv));
  auto t1 = p.token({});
  ASSERT_TRUE(t1.ok()) << t1.error().to_string();
  EXPECT_EQ(*t1, "tok-1");
  std::unique_lock lock(mu);
  EXPECT_EQ(last_target, "/tenant-1/oauth2/v2.0/token");
  EXPECT_EQ(last_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(last_body,
            "grant_type=client_credentials&client_id=client-1&client_secret=se%20cret%26%3D"
            "&scope=https%3A%2F%2Fstorage.azure.com%2F.default");
  lock.unlock();
  // Cached while far from expiry.
  EXPECT_EQ(*p.token({}), "tok-1");
  EXPECT_EQ(p.fetches(), 1);
  // A token inside the refresh margin is replaced on the next call.
  expires = 60;
  TokenProvider q(client(), RetryPolicy{}, cred(srv));
  EXPECT_EQ(*q.token({}), "tok-2");
  EXPECT_EQ(*q.token({}), "tok-3");
  EXPECT_EQ(q.fetches(), 2);
}

TEST(AzureToken, RejectedSecretIsUnauthenticatedAndNeverEchoed) {
  ScriptedHttpServer srv([](const ScriptedRequest&) {
    return ScriptedReply{
        401,
        {{"Content-Type", "application/json"}},
        "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid "
        "client secret provided.\\r\\nTrace ID: x\"}"};
  });
  TokenProvider p(client(), RetryPolicy{}, cred(srv));
  auto t = p.token({});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code(), ErrorCode::kUnauthenticated);
  const std::string msg = t.error().to_string();
  EXPECT_NE(msg.find("AADSTS7000215"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("se cret"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("Trace ID"), std::string::npos) << msg;
}

TEST(AzureToken, TokenEndpointOutageIsRetried) {
  std::atomic<int> n{0};
  ScriptedHttpServer srv([&](const ScriptedRequest&) {
    if (++n == 1) return ScriptedReply{503, {}, ""};
    return ScriptedReply{200, {}, "{\"expires_in\":\"3600\",\"access_token\":\"ok\"}"};
  });
  RetryPolicy rp;
  rp.base_delay = std::chrono::milliseconds(1);
  TokenProvider p(client(), rp, cred(srv));
  auto t = p.token({});
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(*t, "ok");
  EXPECT_EQ(n.load(), 2);
}

TEST(AzureToken, StoreSendsTheBearerTokenOnStorageRequests) {
  std::mutex mu;  // the server thread writes, the test reads (TSan cannot see through sockets)
  std::string auth, version;
  ScriptedHttpServer srv([&](const ScriptedRequest& r) {
    std::lock_guard g(mu);
    if (r.target.find("/oauth2/v2.0/token") != std::string::npos) {
      return ScriptedReply{200, {}, "{\"expires_in\":3600,\"access_token\":\"bearer-xyz\"}"};
    }
    auth = r.headers.count("authorization") ? r.headers.at("authorization") : "";
    version = r.headers.count("x-ms-version") ? r.headers.at("x-ms-version") : "";
    return ScriptedReply{200, {{"ETag", "\"e\""}}, "", 5};
  });
  Config cfg;
  cfg.azure.endpoint = srv.url("");
  cfg.azure.tenant_id = "t";
  cfg.azure.client_id = "c";
  cfg.azure.client_secret = "s";
  cfg.azure.authority_host = srv.url("");
  auto store = store_for_uri("az://acct/c/k", cfg);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  auto m = (*store)->stat("az://acct/c/k");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->size, 5u);
  std::lock_guard g(mu);
  EXPECT_EQ(auth, "Bearer bearer-xyz");
  EXPECT_FALSE(version.empty());
}

}  // namespace
}  // namespace omnio::azure
