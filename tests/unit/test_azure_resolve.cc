// Where an az:// store's endpoint and credentials come from: connection strings, AZURE_STORAGE_*
// variables, Entra ID variables, and their precedence; every AZURE_* variable is saved, controlled
// per test and restored.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "backends/azure/azure_resolve.h"

namespace omnio::azure {
namespace {

constexpr const char* kKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

class AzureResolve : public ::testing::Test {
 protected:
  static constexpr const char* kVars[] = {"AZURE_STORAGE_CONNECTION_STRING",
                                          "AZURE_STORAGE_ACCOUNT",
                                          "AZURE_STORAGE_KEY",
                                          "AZURE_STORAGE_SAS_TOKEN",
                                          "AZURE_STORAGE_ENDPOINT",
                                          "AZURE_TENANT_ID",
                                          "AZURE_CLIENT_ID",
                                          "AZURE_CLIENT_SECRET",
                                          "AZURE_AUTHORITY_HOST"};
  void SetUp() override {
    for (const char* v : kVars) {
      const char* old = std::getenv(v);
      saved_[v] = old ? std::optional<std::string>(old) : std::nullopt;
      ::unsetenv(v);
    }
  }
  void TearDown() override {
    for (const auto& [k, v] : saved_) {
      if (v)
        ::setenv(k.c_str(), v->c_str(), 1);
      else
        ::unsetenv(k.c_str());
    }
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST_F(AzureResolve, NothingConfiguredIsAnonymousWithTheDefaultEndpoint) {
  auto r = resolve(AzureConfig{});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->auth, AuthKind::kNone);
  EXPECT_EQ(account_url(*r, "acct"), "https://acct.blob.core.windows.net");
}

TEST_F(AzureResolve, ConnectionStringWithBlobEndpoint) {
  ::setenv("AZURE_STORAGE_CONNECTION_STRING",
           (std::string("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=") +
            kKey + ";BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;")
               .c_str(),
           1);
  auto r = resolve(AzureConfig{});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->auth, AuthKind::kSharedKey);
  EXPECT_EQ(r->account, "devstoreaccount1");
  EXPECT_EQ(r->key.size(), 64u);
  EXPECT_EQ(account_url(*r, "devstoreaccount1"), "http://127.0.0.1:10000/devstoreaccount1");
  EXPECT_NE(r->credentials_source.find("AZURE_STORAGE_CONNECTION_STRING"), std::string::npos);
}

TEST_F(AzureResolve, ConnectionStringWithSasAndEndpointSuffix) {
  auto kv = parse_connection_string(
      "AccountName=acct; SharedAccessSignature=sv=2023&sig=a%3D;EndpointSuffix=core.windows.net");
  EXPECT_EQ(kv["SharedAccessSignature"], "sv=2023&sig=a%3D");
  AzureConfig c;
  c.connection_string =
      "AccountName=acct;SharedAccessSignature=?sv=2023&sig=a%3D;EndpointSuffix=core.windows.net";
  auto r = resolve(c);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->auth, AuthKind::kSas);
  EXPECT_EQ(r->sas, "sv=2023&sig=a%3D");
  EXPECT_EQ(account_url(*r, "acct"), "https://acct.blob.core.windows.net");
}

TEST_F(AzureResolve, EnvironmentVariablesAndPathStyleEndpoint) {
  ::setenv("AZURE_STORAGE_ACCOUNT", "devstoreaccount1", 1);
  ::setenv("AZURE_STORAGE_KEY", kKey, 1);
  ::setenv("AZURE_STORAGE_ENDPOINT", "http://127.0.0.1:10000/", 1);
  auto r = resolve(AzureConfig{});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->auth, AuthKind::kSharedKey);
  EXPECT_TRUE(r->path_style);
  EXPECT_EQ(account_url(*r, "devstoreaccount1"), "http://127.0.0.1:10000/devstoreaccount1");
  EXPECT_EQ(r->credentials_source, "AZURE_STORAGE_KEY");
}

TEST_F(AzureResolve, ExplicitConfigBeatsEnvironmentAndKeyBeatsSas) {
  ::setenv("AZURE_STORAGE_SAS_TOKEN", "sv=env", 1);
  ::setenv("AZURE_STORAGE_ENDPOINT", "http://127.0.0.1:1", 1);
  AzureConfig c;
  c.endpoint = "https://example.test";
  c.account_key = kKey;
  auto r = resolve(c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->auth, AuthKind::kSharedKey);
  EXPECT_EQ(r->credentials_source, "config");
  EXPECT_FALSE(r->path_style);
  EXPECT_EQ(account_url(*r, "acct"), "https://example.test");
  ::unsetenv("AZURE_STORAGE_ENDPOINT");
  auto sas = resolve(AzureConfig{});
  ASSERT_TRUE(sas.ok());
  EXPECT_EQ(sas->auth, AuthKind::kSas);
  EXPECT_EQ(sas->sas, "sv=env");
}

TEST_F(AzureResolve, EntraClientSecretNeedsTenantAndClient) {
  ::setenv("AZURE_CLIENT_SECRET", "s3cret", 1);
  auto bad = resolve(AzureConfig{});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().to_string().find("s3cret"), std::string::npos);  // never echo secrets
  ::setenv("AZURE_TENANT_ID", "t1", 1);
  ::setenv("AZURE_CLIENT_ID", "c1", 1);
  auto r = resolve(AzureConfig{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->auth, AuthKind::kEntra);
  EXPECT_EQ(r->authority_host, "https://login.microsoftonline.com");
}

TEST_F(AzureResolve, MalformedInputsAreInvalidArgument) {
  AzureConfig c;
  c.endpoint = "127.0.0.1:10000";
  EXPECT_EQ(resolve(c).error().code(), ErrorCode::kInvalidArgument);
  AzureConfig k;
  k.account_key = "not base64!";
  auto r = resolve(k);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().to_string().find("not base64!"), std::string::npos);
}

}  // namespace
}  // namespace omnio::azure
