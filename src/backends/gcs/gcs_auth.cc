#include "backends/gcs/gcs_auth.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "http/encoding.h"
#include "http/retrying.h"
#include "omnio/constants.h"
#include "omnio/env.h"
#include "omnio/log.h"

namespace omnio::gcs {
namespace {

using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

std::string str_field(const Json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// RS256: RSASSA-PKCS1-v1_5 over SHA-256 with the PEM key.
Result<std::string> rs256(std::string_view pem, std::string_view data) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return Error(ErrorCode::kInternal, "out of memory reading the private key");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) return Error(ErrorCode::kInvalidArgument, "private_key is not a PEM private key");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    return Error(ErrorCode::kInvalidArgument, "cannot sign with private_key (not an RSA key?)");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Error(ErrorCode::kInternal, "RS256 signing failed");
  }
  sig.resize(len);
  return sig;
}

// POSTs a form to an OAuth2 token endpoint (or GETs the metadata server) and reads
// {"access_token", "expires_in"}.
Result<AccessToken> fetch_token(const std::shared_ptr<http::HttpClient>& client,
                                const RetryPolicy& policy, std::string method, std::string url,
                                std::string form, http::Headers headers,
                                std::chrono::milliseconds timeout, std::string what) {
  auto body = std::make_shared<std::string>(std::move(form));
  http::RetryingCall call;
  call.what = what;
  call.make = [=](int) -> Result<http::Request> {
    http::Request r;
    r.method = method;
    r.url = url;
    r.headers = headers;
    if (!body->empty()) {
      r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
      r.body = std::as_bytes(std::span<const char>(body->data(), body->size()));
    }
    r.timeout = timeout;
    return r;
  };
  call.check = [what](Result<http::Response> r) -> Result<http::Response> {
    if (!r.ok() || (r->status >= 200 && r->status < 300)) return r;
    const int st = static_cast<int>(r->status);
    ErrorCode ec = st >= 500   ? ErrorCode::kUnavailable
                   : st == 429 ? ErrorCode::kResourceExhausted
                               : ErrorCode::kUnauthenticated;
    std::string detail = r->body.substr(0, 300);
    try {
      auto j = Json::parse(r->body);
      detail = str_field(j, "error") + ": " + str_field(j, "error_description");
    } catch (const std::exception&) {
    }
    return Error(ec, fmt::format("{}: HTTP {}: {}", what, st, detail)).with_http_status(st);
  };
  const auto sent = SteadyClock::now();
  OMNIO_ASSIGN_OR_RETURN(http::Response r,
                         http::perform_with_retry(client, policy, nullptr, std::move(call)));
  try {
    auto j = Json::parse(r.body);
    AccessToken t;
    t.value = str_field(j, "access_token");
    long long secs = j.value("expires_in", 3600LL);
    if (t.value.empty())
      return Error(ErrorCode::kUnauthenticated, what + ": the answer has no access_token");
    t.expires = sent + std::chrono::seconds(secs);
    return t;
  } catch (const std::exception& e) {
    return Error(ErrorCode::kUnauthenticated,
                 fmt::format("{}: unreadable answer: {}", what, e.what()));
  }
}

std::string form_encode(std::initializer_list<std::pair<std::string_view, std::string_view>> kv) {
  std::string out;
  for (const auto& [k, v] : kv) {
    out += (out.empty() ? "" : "&") + http::percent_encode(k) + "=" + http::percent_encode(v);
  }
  return out;
}

Status split_endpoint(std::string url, Resolved* r) {
  if (url.find("://") == std::string::npos)
    url = "http://" + url;  // STORAGE_EMULATOR_HOST=host:port
  while (!url.empty() && url.back() == '/') url.pop_back();
  const auto sep = url.find("://");
  const std::string scheme = url.substr(0, sep), rest = url.substr(sep + 3);
  if ((scheme != "http" && scheme != "https") || rest.empty() ||
      rest.find('/') != std::string::npos) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("GCS endpoint '{}' is not http(s)://host[:port] (e.g. http://127.0.0.1:9023)",
                    url));
  }
  r->endpoint = url;
  return ok_status();
}

}  // namespace

Result<CredentialsFile> parse_credentials(std::string_view text, std::string_view origin) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInvalidArgument, fmt::format("{}: not JSON: {}", origin, e.what()));
  }
  if (!j.is_object())
    return Error(ErrorCode::kInvalidArgument, fmt::format("{}: not a JSON object", origin));
  CredentialsFile f;
  f.type = str_field(j, "type");
  auto need = [&](const char* name, std::string* out) -> Status {
    *out = str_field(j, name);
    if (out->empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("{}: {} credentials without \"{}\"", origin, f.type, name));
    }
    return ok_status();
  };
  if (f.type == "service_account") {
    auto& sa = f.service_account;
    OMNIO_TRY(need("client_email", &sa.client_email));
    OMNIO_TRY(need("private_key", &sa.private_key));
    sa.private_key_id = str_field(j, "private_key_id");
    sa.token_uri = str_field(j, "token_uri");
    if (sa.token_uri.empty()) sa.token_uri = kGcsDefaultTokenUri;
    sa.project_id = str_field(j, "project_id");
  } else if (f.type == "authorized_user") {
    auto& au = f.authorized_user;
    OMNIO_TRY(need("client_id", &au.client_id));
    OMNIO_TRY(need("client_secret", &au.client_secret));
    OMNIO_TRY(need("refresh_token", &au.refresh_token));
    au.token_uri = str_field(j, "token_uri");
    if (au.token_uri.empty()) au.token_uri = kGcsDefaultTokenUri;
    au.quota_project_id = str_field(j, "quota_project_id");
  } else {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("{}: credentials type '{}' is not supported (service_account, authorized_user)",
                    origin, f.type));
  }
  return f;
}

Result<std::string> make_jwt(const ServiceAccount& sa, std::int64_t now, std::string_view scope) {
  Json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!sa.private_key_id.empty()) header["kid"] = sa.private_key_id;
  Json claims = {{"iss", sa.client_email},
                 {"scope", scope},
                 {"aud", sa.token_uri},
                 {"iat", now},
                 {"exp", now + kGcsJwtLifetime.count()}};
  std::string signing_input =
      http::base64url_encode(header.dump()) + "." + http::base64url_encode(claims.dump());
  auto sig = rs256(sa.private_key, signing_input);
  if (!sig.ok()) return sig.error().wrap(fmt::format("service account {}", sa.client_email));
  return signing_input + "." + http::base64url_encode(*sig);
}

Result<std::string> TokenSource::token() {
  std::lock_guard g(mu_);
  const auto now = SteadyClock::now();
  if (!cached_.value.empty() && now + kGcsTokenRefreshMargin < cached_.expires)
    return cached_.value;
  auto fresh = fetch_();
  ++fetches_;
  if (!fresh.ok()) {
    if (!cached_.value.empty() && now < cached_.expires) {
      log::warn(
          "refreshing the GCS access token ({}) failed; using the cached one until it expires: {}",
          what_, fresh.error().to_string());
      return cached_.value;
    }
    return fresh.error().wrap("getting a GCS access token from " + what_);
  }
  cached_ = std::move(*fresh);
  return cached_.value;
}

int TokenSource::fetches() const {
  std::lock_guard g(mu_);
  return fetches_;
}

Result<Resolved> resolve(const GcsConfig& c, std::shared_ptr<http::HttpClient> token_client) {
  Resolved r;
  if (!c.endpoint.empty()) {
    OMNIO_TRY(split_endpoint(c.endpoint, &r));
    r.endpoint_source = "config";
  } else if (auto emu = env::get("STORAGE_EMULATOR_HOST")) {
    OMNIO_TRY(split_endpoint(*emu, &r));
    r.endpoint_source = "STORAGE_EMULATOR_HOST";
  } else if (auto url = env::get("GCS_ENDPOINT_URL")) {
    OMNIO_TRY(split_endpoint(*url, &r));
    r.endpoint_source = "GCS_ENDPOINT_URL";
  } else {
    r.endpoint = kGcsDefaultEndpoint;
    r.endpoint_source = "default";
  }
  r.custom_endpoint = r.endpoint_source != "default";
  r.project = !c.project.empty() ? c.project : env::get("GOOGLE_CLOUD_PROJECT").value_or("");
  const RetryPolicy policy = c.retry;

  if (!c.access_token.empty()) {
    AccessToken fixed{c.access_token, SteadyClock::time_point::max()};
    r.tokens =
        std::make_shared<TokenSource>("an access token from the config", [fixed] { return fixed; });
    r.auth_source = r.tokens->description();
    return r;
  }
  const bool anonymous =
      c.auth == GcsAuth::kAnonymous ||
      (c.auth == GcsAuth::kAuto && r.custom_endpoint && c.credentials_file.empty());
  if (anonymous) {
    r.auth_source = fmt::format(
        "anonymous ({})",
        c.auth == GcsAuth::kAnonymous ? "config" : "custom endpoint from " + r.endpoint_source);
    return r;
  }

  // A credentials file: the config's, GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file.
  std::string path = c.credentials_file, path_source = "config";
  if (path.empty() && c.auth != GcsAuth::kMetadataServer) {
    if (auto v = env::get("GOOGLE_APPLICATION_CREDENTIALS")) {
      path = *v;
      path_source = "GOOGLE_APPLICATION_CREDENTIALS";
    } else {
      std::string dir = env::get("CLOUDSDK_CONFIG").value_or("");
      if (dir.empty()) {
        if (auto home = env::get("HOME")) dir = *home + "/.config/gcloud";
      }
      std::string adc = dir.empty() ? std::string() : dir + "/application_default_credentials.json";
      std::error_code ec;
      if (!adc.empty() && std::filesystem::exists(adc, ec)) {
        path = adc;
        path_source = "gcloud application default credentials";
      }
    }
  }
  if (!path.empty()) {
    std::string text;
    if (!read_file(path, &text)) {
      return Error(
          ErrorCode::kInvalidArgument,
          fmt::format("GCS credentials file {} (from {}) cannot be read", path, path_source));
    }
    OMNIO_ASSIGN_OR_RETURN(CredentialsFile f, parse_credentials(text, path));
    if (f.type == "service_account") {
      ServiceAccount sa = f.service_account;
      if (r.project.empty()) r.project = sa.project_id;
      std::string what = fmt::format("service account {} (file {})", sa.client_email, path);
      r.tokens = std::make_shared<TokenSource>(
          what, [sa, token_client, policy, what]() -> Result<AccessToken> {
            const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
            OMNIO_ASSIGN_OR_RETURN(std::string jwt, make_jwt(sa, now, kGcsOAuthScope));
            return fetch_token(
                token_client, policy, "POST", sa.token_uri,
                form_encode({{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                             {"assertion", jwt}}),
                {}, std::chrono::milliseconds(0), "POST " + sa.token_uri + " for " + what);
          });
    } else {
      AuthorizedUser au = f.authorized_user;
      if (r.project.empty()) r.project = au.quota_project_id;
      std::string what = fmt::format("authorized user {} (file {})", au.client_id, path);
      r.tokens = std::make_shared<TokenSource>(
          what, [au, token_client, policy, what]() -> Result<AccessToken> {
            return fetch_token(token_client, policy, "POST", au.token_uri,
                               form_encode({{"grant_type", "refresh_token"},
                                            {"client_id", au.client_id},
                                            {"client_secret", au.client_secret},
                                            {"refresh_token", au.refresh_token}}),
                               {}, std::chrono::milliseconds(0),
                               "POST " + au.token_uri + " for " + what);
          });
    }
    r.auth_source = r.tokens->description();
    return r;
  }
  if (c.auth == GcsAuth::kCredentialsFile) {
    return Error(ErrorCode::kInvalidArgument,
                 "GCS auth is credentials-file but no file is configured: set credentials_file or "
                 "GOOGLE_APPLICATION_CREDENTIALS");
  }
  // The metadata server: one short attempt per refresh, only when nothing else is configured.
  const std::string host = env::get("GCE_METADATA_HOST").value_or(kGcsMetadataHost);
  const std::string url =
      "http://" + host + "/computeMetadata/v1/instance/service-accounts/default/token";
  const auto timeout = c.metadata_timeout;
  std::string what = "the GCE metadata server (" + host + ")";
  r.tokens = std::make_shared<TokenSource>(
      what, [token_client, url, timeout, what]() -> Result<AccessToken> {
        RetryPolicy once;
        once.max_attempts = 1;
        auto t = fetch_token(token_client, once, "GET", url, "", {{"Metadata-Flavor", "Google"}},
                             timeout, "GET " + url);
        if (!t.ok()) {
          return t.error().wrap(
              "no GCS credentials: GOOGLE_APPLICATION_CREDENTIALS is unset, there is no gcloud "
              "application "
              "default credentials file, and " +
              what + " did not answer (set STORAGE_EMULATOR_HOST for an emulator)");
        }
        return t;
      });
  r.auth_source = what;
  return r;
}

}  // namespace omnio::gcs
