// Entra ID (Azure AD) client-secret credentials: an OAuth2 client_credentials token for Azure
// Storage, fetched on first use, cached, and refreshed kAzureTokenRefreshMargin before it expires.
// Neither the secret nor the token is ever logged or put in an error message.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "http/http_client.h"
#include "http/retrying.h"
#include "omnio/cancel.h"
#include "omnio/result.h"
#include "omnio/retry.h"

namespace omnio::azure {

/// Where and as whom tokens are requested.
struct ClientSecretCredential {
  /// "https://login.microsoftonline.com" (no trailing '/').
  std::string authority_host;
  std::string tenant_id;
  std::string client_id;
  std::string client_secret;
  /// OAuth2 scope of the token.
  std::string scope = "https://storage.azure.com/.default";
};

class TokenProvider {
 public:
  TokenProvider(std::shared_ptr<http::HttpClient> client, RetryPolicy retry,
                ClientSecretCredential cred);

  /// A valid access token: the cached one, or a fresh one when none is cached or it expires within
  /// the refresh margin. Thread-safe; concurrent callers share one token request.
  Result<std::string> token(const CancellationToken& cancel);
  /// Token requests sent (tests assert the cache works).
  int fetches() const;

 private:
  std::shared_ptr<http::HttpClient> http_;
  RetryPolicy retry_;
  ClientSecretCredential cred_;
  std::shared_ptr<http::RetryBudget> budget_;
  mutable std::mutex mu_;
  std::string token_;
  std::chrono::steady_clock::time_point expires_{};
  std::atomic<int> fetches_{0};
};

}  // namespace omnio::azure
