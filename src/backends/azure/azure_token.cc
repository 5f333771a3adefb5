#include "backends/azure/azure_token.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "http/encoding.h"
#include "omnio/constants.h"
#include "omnio/log.h"

namespace omnio::azure {

TokenProvider::TokenProvider(std::shared_ptr<http::HttpClient> client, RetryPolicy retry,
                             ClientSecretCredential cred)
    : http_(std::move(client)),
      retry_(retry),
      cred_(std::move(cred)),
      budget_(std::make_shared<http::RetryBudget>(kRetryBudgetTokens)) {}

int TokenProvider::fetches() const { return fetches_.load(); }

Result<std::string> TokenProvider::token(const CancellationToken& cancel) {
  // Held across the request: callers that arrive meanwhile wait for the same token.
  std::lock_guard g(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!token_.empty() && now + kAzureTokenRefreshMargin < expires_) return token_;
  const std::string url = fmt::format("{}/{}/oauth2/v2.0/token", cred_.authority_host,
                                      http::uri_encode(cred_.tenant_id, true));
  const std::string form =
      fmt::format("grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
                  http::uri_encode(cred_.client_id, true),
                  http::uri_encode(cred_.client_secret, true), http::uri_encode(cred_.scope, true));
  const std::string what = fmt::format("Entra ID token for client {} (tenant {}) from {}",
                                       cred_.client_id, cred_.tenant_id, cred_.authority_host);
  http::RetryingCall call;
  call.what = what;
  call.cancel = cancel;
  call.idempotent = true;  // a token request has no side effect
  call.make = [&](int) -> Result<http::Request> {
    ++fetches_;
    http::Request r;
    r.method = "POST";
    r.url = url;
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"}};
    r.body = std::as_bytes(std::span<const char>(form.data(), form.size()));
    r.cancel = cancel;
    return r;
  };
  call.check = [what](Result<http::Response> r) -> Result<http::Response> {
    if (!r.ok() || (r->status >= 200 && r->status < 300)) return r;
    // The error body names the problem (AADSTS codes) but never echoes the secret.
    std::string detail = "no error description";
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
      detail = j.value("error", std::string("error")) + ": " +
               j.value("error_description", std::string());
      if (auto nl = detail.find("\r\n"); nl != std::string::npos) detail.resize(nl);
    }
    const int s = static_cast<int>(r->status);
    ErrorCode ec = s >= 500 || s == 429 ? ErrorCode::kUnavailable : ErrorCode::kUnauthenticated;
    return Error(ec, fmt::format("{}: HTTP {}: {}", what, s, detail)).with_http_status(s);
  };
  OMNIO_ASSIGN_OR_RETURN(http::Response resp,
                         http::perform_with_retry(http_, retry_, budget_, std::move(call)));
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("access_token") ||
      !j["access_token"].is_string()) {
    return Error(ErrorCode::kUnauthenticated,
                 fmt::format("{}: the response has no access_token", what));
  }
  long long expires_in = 3600;
  if (j.contains("expires_in")) {
    const auto& e = j["expires_in"];
    if (e.is_number_integer())
      expires_in = e.get<long long>();
    else if (e.is_string())
      expires_in = std::atoll(e.get<std::string>().c_str());  // v1 endpoints
  }
  token_ = j["access_token"].get<std::string>();
  expires_ = now + std::chrono::seconds(expires_in);
  log::debug("{}: token valid for {} s", what, expires_in);
  return token_;
}

}  // namespace omnio::azure
