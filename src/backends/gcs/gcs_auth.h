// Where a gs:// store's endpoint, project and credentials come from, and the OAuth2 access tokens
// it sends: a service-account JWT (RS256, signed with OpenSSL) or an authorized-user refresh token
// exchanged at the token endpoint, or a token from the GCE metadata server; cached and refreshed
// kGcsTokenRefreshMargin before expiry. Emulators and custom endpoints are anonymous: no token,
// and the metadata server is never contacted.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "http/http_client.h"
#include "omnio/gcs_config.h"
#include "omnio/result.h"

namespace omnio::gcs {

/// The fields omnio uses of a service-account key file ("type": "service_account").
struct ServiceAccount {
  std::string client_email;
  std::string private_key;  ///< PEM
  std::string private_key_id;
  std::string token_uri;
  std::string project_id;
};

/// The fields of gcloud's authorized-user file ("type": "authorized_user").
struct AuthorizedUser {
  std::string client_id;
  std::string client_secret;
  std::string refresh_token;
  std::string token_uri;  ///< kGcsDefaultTokenUri unless the file names one
  std::string quota_project_id;
};

/// A parsed credentials file: exactly one of the two is set (by `type`).
struct CredentialsFile {
  std::string type;
  ServiceAccount service_account;
  AuthorizedUser authorized_user;
};

/// Parses a credentials JSON document; kInvalidArgument names the missing field or unknown type.
Result<CredentialsFile> parse_credentials(std::string_view json, std::string_view origin);

/// The signed JWT assertion (header.claims.signature, base64url) a service account exchanges for
/// an access token; `now` is seconds since the epoch.
Result<std::string> make_jwt(const ServiceAccount& sa, std::int64_t now, std::string_view scope);

/// An OAuth2 access token and when it stops working.
struct AccessToken {
  std::string value;
  std::chrono::steady_clock::time_point expires;
};

/// Produces access tokens; thread-safe. One fetch at a time; callers wait for it.
class TokenSource {
 public:
  using Fetch = std::function<Result<AccessToken>()>;
  TokenSource(std::string description, Fetch fetch)
      : what_(std::move(description)), fetch_(std::move(fetch)) {}
  /// A token valid for at least kGcsTokenRefreshMargin (fetching one if needed). When a refresh
  /// fails but the cached token has not expired yet, the cached one is returned.
  Result<std::string> token();
  /// "service account x@y.iam.gserviceaccount.com (file /path)" (never the secret).
  const std::string& description() const { return what_; }
  /// Tokens fetched so far (tests).
  int fetches() const;

 private:
  std::string what_;
  Fetch fetch_;
  mutable std::mutex mu_;
  AccessToken cached_;
  int fetches_ = 0;
};

/// Endpoint, project and credentials of a store.
struct Resolved {
  /// "http://127.0.0.1:9023" (no trailing slash).
  std::string endpoint;
  std::string endpoint_source;  ///< "config", "STORAGE_EMULATOR_HOST", ..., "default"
  bool custom_endpoint = false;
  std::string project;
  /// nullptr: anonymous.
  std::shared_ptr<TokenSource> tokens;
  /// "anonymous (custom endpoint)", the token source's description, ...
  std::string auth_source;
};

/// Resolves `config` (environment and files; no network request is made here). `token_client`
/// carries token requests (a client of its own, so a token refresh never waits behind data).
Result<Resolved> resolve(const GcsConfig& config, std::shared_ptr<http::HttpClient> token_client);

}  // namespace omnio::gcs
