// gs:// credentials: the RS256 JWT of a service account (signed with a key generated here and
// verified with its public half), the token exchange against a local token endpoint, caching and
// refresh before expiry, authorized-user refresh tokens, the metadata server (short timeout, and
// never contacted when an emulator endpoint is set), and anonymous access.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "backends/gcs/gcs_auth.h"
#include "http/encoding.h"
#include "omnio/store_factory.h"
#include "support/scripted_http_server.h"

namespace omnio::gcs {
namespace {

using testing::ScriptedHttpServer;
using testing::ScriptedReply;
using testing::ScriptedRequest;
using Json = nlohmann::json;

struct KeyPair {
  std::string private_pem, public_pem;
};

KeyPair generate_rsa() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  KeyPair kp;
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  kp.private_pem.assign(p, static_cast<std::size_t>(n));
  BIO_free(b);
  b = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(b, key);
  n = BIO_get_mem_data(b, &p);
  kp.public_pem.assign(p, static_cast<std::size_t>(n));
  BIO_free(b);
  EVP_PKEY_free(key);
  return kp;
}

const KeyPair& test_key() {
  static const KeyPair kp = generate_rsa();
  return kp;
}

std::string b64url_decode(std::string s) {
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  return http::base64_decode(s).value_or("<bad base64>");
}

bool verify_rs256(const std::string& public_pem, const std::string& data, const std::string& sig) {
  BIO* b = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

std::map<std::string, std::string> parse_form(const std::string& body) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto amp = body.find('&', pos);
    std::string kv = body.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    auto eq = kv.find('=');
    auto dec = [](std::string s) {
      std::string o;
      for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
          o += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          o += s[i] == '+' ? ' ' : s[i];
        }
      }
      return o;
    };
    out[dec(kv.substr(0, eq))] = dec(kv.substr(eq + 1));
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return out;
}

std::string write_temp(const std::string& name, const std::string& text) {
  auto path =
      std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << text;
  return path.string();
}

// Sets an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string object_json(const std::string& name) {
  return Json{{"name", name},
              {"size", "3"},
              {"generation", "7"},
              {"etag", "CAE="},
              {"updated", "2026-11-30T01:02:03.000Z"}}
      .dump();
}

TEST(GcsEncoding, Base64AndPercent) {
  EXPECT_EQ(http::base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(http::base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(http::base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(http::base64_decode("aGVsbG8"), "hello");
  EXPECT_FALSE(http::base64_decode("a$b").has_value());
  EXPECT_EQ(http::percent_encode("a b/ü+%"), "a%20b%2F%C3%BC%2B%25");
  EXPECT_EQ(http::percent_encode("a/b", false), "a/b");
}

TEST(GcsCredentials, ParsesBothTypesAndNamesWhatIsMissing) {
  auto sa = parse_credentials(
      R"({"type":"service_account","client_email":"a@b","private_key":"K","project_id":"p"})", "f");
  ASSERT_TRUE(sa.ok()) << sa.error().to_string();
  EXPECT_EQ(sa->service_account.token_uri, kGcsDefaultTokenUri);
  EXPECT_EQ(sa->service_account.project_id, "p");
  auto au = parse_credentials(
      R"({"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r"})", "f");
  ASSERT_TRUE(au.ok()) << au.error().to_string();
  EXPECT_EQ(au->authorized_user.refresh_token, "r");
  auto missing =
      parse_credentials(R"({"type":"service_account","client_email":"a@b"})", "key.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.error().message().find("private_key"), std::string::npos)
      << missing.error().message();
  EXPECT_FALSE(parse_credentials(R"({"type":"external_account"})", "f").ok());
  EXPECT_FALSE(parse_credentials("not json", "f").ok());
}

TEST(GcsJwt, SignedWithTheKeyAndVerifiableWithItsPublicHalf) {
  ServiceAccount sa{"svc@proj.iam.gserviceaccount.com", test_key().private_pem, "kid-1",
                    "http://127.0.0.1:1/token", "proj"};
  auto jwt = make_jwt(sa, 1'800'000'000, kGcsOAuthScope);
  ASSERT_TRUE(jwt.ok()) << jwt.error().to_string();
  auto d1 = jwt->find('.'), d2 = jwt->rfind('.');
  ASSERT_NE(d1, d2);
  Json header = Json::parse(b64url_decode(jwt->substr(0, d1)));
  Json claims = Json::parse(b64url_decode(jwt->substr(d1 + 1, d2 - d1 - 1)));
  EXPECT_EQ(header["alg"], "RS256");
  EXPECT_EQ(header["typ"], "JWT");
  EXPECT_EQ(header["kid"], "kid-1");
  EXPECT_EQ(claims["iss"], sa.client_email);
  EXPECT_EQ(claims["aud"], sa.token_uri);
  EXPECT_EQ(claims["scope"], kGcsOAuthScope);
  EXPECT_EQ(claims["iat"], 1'800'000'000);
  EXPECT_EQ(claims["exp"], 1'800'000'000 + 3600);
  EXPECT_EQ(jwt->find('='), std::string::npos) << "base64url without padding";
  EXPECT_TRUE(
      verify_rs256(test_key().public_pem, jwt->substr(0, d2), b64url_decode(jwt->substr(d2 + 1))));
  // Another key's signature does not verify.
  EXPECT_FALSE(verify_rs256(generate_rsa().public_pem, jwt->substr(0, d2),
                            b64url_decode(jwt->substr(d2 + 1))));
  sa.private_key = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n";
  EXPECT_EQ(make_jwt(sa, 0, kGcsOAuthScope).error().code(), ErrorCode::kInvalidArgument);
}

// A token endpoint and a JSON API on one local server: the API answers only with the token the
// endpoint handed out.
struct FakeGoogle {
  std::atomic<int> token_requests{0}, api_requests{0}, unauthorized{0};
  std::atomic<int> expires_in{3600};
  std::string last_grant;
  std::mutex mu;
  ScriptedHttpServer server{[this](const ScriptedRequest& r) { return handle(r); }};

  ScriptedReply handle(const ScriptedRequest& r) {
    if (r.target == "/token") {
      auto form = parse_form(r.body);
      int n = ++token_requests;
      {
        std::lock_guard g(mu);
        last_grant = form["grant_type"];
      }
      if (form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer") {
        const std::string& jwt = form["assertion"];
        auto d2 = jwt.rfind('.');
        if (!verify_rs256(test_key().public_pem, jwt.substr(0, d2),
                          b64url_decode(jwt.substr(d2 + 1)))) {
          return {
              400, {}, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})"};
        }
      } else if (form["grant_type"] == "refresh_token") {
        if (form["refresh_token"] != "rt-1" || form["client_secret"] != "cs") {
          return {400, {}, R"({"error":"invalid_grant","error_description":"Bad Request"})"};
        }
      } else {
        return {400, {}, R"({"error":"unsupported_grant_type"})"};
      }
      return {200,
              {{"Content-Type", "application/json"}},
              Json{{"access_token", "tok-" + std::to_string(n)},
                   {"expires_in", expires_in.load()},
                   {"token_type", "Bearer"}}
                  .dump()};
    }
    ++api_requests;
    auto it = r.headers.find("authorization");
    if (it == r.headers.end() ||
        it->second != "Bearer tok-" + std::to_string(token_requests.load())) {
      ++unauthorized;
      return {
          401,
          {},
          R"({"error":{"code":401,"message":"Invalid Credentials","errors":[{"reason":"authError"}]}})"};
    }
    return {200, {{"Content-Type", "application/json"}}, object_json("k")};
  }
};

std::string service_account_file(const FakeGoogle& g) {
  return write_temp("omnio-sa", Json{{"type", "service_account"},
                                     {"client_email", "svc@proj.iam.gserviceaccount.com"},
                                     {"private_key", test_key().private_pem},
                                     {"private_key_id", "kid-1"},
                                     {"project_id", "proj"},
                                     {"token_uri", g.server.url("/token")}}
                                    .dump());
}

TEST(GcsAuth, ServiceAccountTokenIsFetchedOnceAndSentAsBearer) {
  FakeGoogle g;
  Config c;
  c.gcs.endpoint = g.server.url("");
  c.gcs.credentials_file = service_account_file(g);
  auto store = store_for_uri("gs://b/k", c);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  for (int i = 0; i < 3; ++i) {
    auto m = (*store)->stat("gs://b/k");
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    EXPECT_EQ(m->size, 3u);
  }
  EXPECT_EQ(g.token_requests, 1) << "cached";
  EXPECT_EQ(g.unauthorized, 0);
  std::lock_guard lock(g.mu);
  EXPECT_EQ(g.last_grant, "urn:ietf:params:oauth:grant-type:jwt-bearer");
  std::filesystem::remove(c.gcs.credentials_file);
}

TEST(GcsAuth, TokenIsRefreshedBeforeItExpires) {
  FakeGoogle g;
  g.expires_in =
      static_cast<int>(kGcsTokenRefreshMargin.count()) - 10;  // inside the refresh margin at once
  ScopedEnv env("GOOGLE_APPLICATION_CREDENTIALS", service_account_file(g));
  Config c;
  c.gcs.endpoint = g.server.url("");
  c.gcs.auth = GcsAuth::kCredentialsFile;  // a custom endpoint would otherwise be anonymous
  auto store = store_for_uri("gs://b/k", c);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  ASSERT_TRUE((*store)->stat("gs://b/k").ok());
  ASSERT_TRUE((*store)->stat("gs://b/k").ok());
  EXPECT_EQ(g.token_requests, 2) << "a token about to expire is replaced, not sent";
  EXPECT_EQ(g.unauthorized, 0);
}

TEST(GcsAuth, AuthorizedUserRefreshToken) {
  FakeGoogle g;
  Config c;
  c.gcs.endpoint = g.server.url("");
  c.gcs.credentials_file = write_temp("omnio-au", Json{{"type", "authorized_user"},
                                                       {"client_id", "cid"},
                                                       {"client_secret", "cs"},
                                                       {"refresh_token", "rt-1"},
                                                       {"token_uri", g.server.url("/token")}}
                                                      .dump());
  auto store = store_for_uri("gs://b/k", c);
  ASSERT_TRUE(store.ok());
  auto m = (*store)->stat("gs://b/k");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  std::lock_guard lock(g.mu);
  EXPECT_EQ(g.last_grant, "refresh_token");
  std::filesystem::remove(c.gcs.credentials_file);
}

TEST(GcsAuth, RejectedGrantIsUnauthenticatedWithTheReason) {
  FakeGoogle g;
  Config c;
  c.gcs.endpoint = g.server.url("");
  c.gcs.credentials_file = write_temp("omnio-au-bad", Json{{"type", "authorized_user"},
                                                           {"client_id", "cid"},
                                                           {"client_secret", "wrong"},
                                                           {"refresh_token", "rt-1"},
                                                           {"token_uri", g.server.url("/token")}}
                                                          .dump());
  auto store = store_for_uri("gs://b/k", c);
  ASSERT_TRUE(store.ok());
  auto m = (*store)->stat("gs://b/k");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kUnauthenticated) << m.error().to_string();
  EXPECT_NE(m.error().to_string().find("invalid_grant"), std::string::npos)
      << m.error().to_string();
  EXPECT_EQ(m.error().to_string().find("cs"), std::string::npos) << "never the secret";
  EXPECT_EQ(g.api_requests, 0);
  std::filesystem::remove(c.gcs.credentials_file);
}

TEST(GcsAuth, EmulatorEndpointIsAnonymousAndNeverAsksTheMetadataServer) {
  std::atomic<int> metadata_requests{0}, with_auth{0};
  ScriptedHttpServer metadata([&](const ScriptedRequest&) {
    ++metadata_requests;
    return ScriptedReply{200, {}, R"({"access_token":"m","expires_in":3600})"};
  });
  ScriptedHttpServer api([&](const ScriptedRequest& r) {
    if (r.headers.count("authorization")) ++with_auth;
    return ScriptedReply{200, {}, object_json("k")};
  });
  ScopedEnv meta("GCE_METADATA_HOST", metadata.url("").substr(7));
  ScopedEnv emu("STORAGE_EMULATOR_HOST", api.url("").substr(7));  // host:port, no scheme
  auto store = store_for_uri("gs://b/k", Config{});
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  auto m = (*store)->stat("gs://b/k");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(metadata_requests, 0);
  EXPECT_EQ(with_auth, 0);
}

TEST(GcsAuth, MetadataServerTokenWithFlavorHeader) {
  std::atomic<int> flavored{0};
  ScriptedHttpServer metadata([&](const ScriptedRequest& r) {
    auto it = r.headers.find("metadata-flavor");
    if (it == r.headers.end() || it->second != "Google")
      return ScriptedReply{403, {}, "missing flavor"};
    if (r.target != "/computeMetadata/v1/instance/service-accounts/default/token")
      return ScriptedReply{404, {}, ""};
    ++flavored;
    return ScriptedReply{
        200, {}, R"({"access_token":"meta-tok","expires_in":3599,"token_type":"Bearer"})"};
  });
  ScopedEnv meta("GCE_METADATA_HOST", metadata.url("").substr(7));
  GcsConfig c;
  c.endpoint = "http://127.0.0.1:1";
  c.auth = GcsAuth::kMetadataServer;
  auto client = http::HttpClient::create({});
  ASSERT_TRUE(client.ok());
  auto r = resolve(c, *client);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->tokens);
  auto t = r->tokens->token();
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(*t, "meta-tok");
  EXPECT_EQ(flavored, 1);
}

TEST(GcsAuth, SilentMetadataServerFailsFast) {
  ScriptedHttpServer metadata([&](const ScriptedRequest&) {
    ScriptedReply r{200, {}, R"({"access_token":"late","expires_in":3600})"};
    r.delay = std::chrono::milliseconds(3000);
    return r;
  });
  ScopedEnv meta("GCE_METADATA_HOST", metadata.url("").substr(7));
  GcsConfig c;
  c.endpoint = "http://127.0.0.1:1";
  c.auth = GcsAuth::kMetadataServer;
  c.metadata_timeout = std::chrono::milliseconds(200);
  auto client = http::HttpClient::create({});
  ASSERT_TRUE(client.ok());
  auto r = resolve(c, *client);
  ASSERT_TRUE(r.ok());
  const auto t0 = std::chrono::steady_clock::now();
  auto t = r->tokens->token();
  EXPECT_FALSE(t.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2000));
  EXPECT_NE(t.error().to_string().find("GOOGLE_APPLICATION_CREDENTIALS"), std::string::npos)
      << t.error().to_string();
}

TEST(GcsAuth, EndpointResolution) {
  auto client = http::HttpClient::create({});
  ASSERT_TRUE(client.ok());
  GcsConfig c;
  c.endpoint = "http://127.0.0.1:9023/";
  auto r = resolve(c, *client);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->endpoint, "http://127.0.0.1:9023");
  EXPECT_TRUE(r->custom_endpoint);
  EXPECT_FALSE(r->tokens) << "anonymous";
  c.endpoint = "ftp://x";
  EXPECT_EQ(resolve(c, *client).error().code(), ErrorCode::kInvalidArgument);
  c.endpoint = "http://h/path";
  EXPECT_EQ(resolve(c, *client).error().code(), ErrorCode::kInvalidArgument);
  c.endpoint.clear();
  ScopedEnv url("GCS_ENDPOINT_URL", "https://storage.example.com");
  r = resolve(c, *client);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->endpoint, "https://storage.example.com");
  EXPECT_EQ(r->endpoint_source, "GCS_ENDPOINT_URL");
}

}  // namespace
}  // namespace omnio::gcs
