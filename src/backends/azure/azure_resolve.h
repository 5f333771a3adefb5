// Where an az:// store's endpoint and credentials come from: explicit AzureConfig >
// AZURE_STORAGE_CONNECTION_STRING > AZURE_STORAGE_* variables > Entra ID client-secret variables.
// No network request is made here (an Entra token is fetched on first use).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "omnio/azure_config.h"
#include "omnio/result.h"

namespace omnio::azure {

enum class AuthKind { kNone, kSharedKey, kSas, kEntra };

/// Endpoint and credentials of a store, with where each came from. Never log the secrets.
struct Resolved {
  /// Configured account, or empty (then each URI names its own).
  std::string account;
  /// Configured endpoint without a trailing '/', or empty
  /// (https://<account>.blob.core.windows.net).
  std::string endpoint;
  /// True when `endpoint` takes the account as its first path segment (Azurite, IP endpoints).
  bool path_style = false;
  AuthKind auth = AuthKind::kNone;
  /// Decoded account key (kSharedKey).
  std::string key;
  /// SAS query without '?' (kSas).
  std::string sas;
  std::string tenant_id, client_id, client_secret, authority_host;
  /// "config", "connection string (env)", "env", ... for debug logs.
  std::string credentials_source;
  std::string endpoint_source;
};

/// "A=b;C=d" -> {A: b, C: d} (values may contain '=').
std::map<std::string, std::string> parse_connection_string(std::string_view s);

/// Resolves everything for `config`. Errors: a malformed endpoint or connection string, an
/// account key that is not base64.
Result<Resolved> resolve(const AzureConfig& config);

/// The base URL of `account`'s blob service: "http://127.0.0.1:10000/devstoreaccount1" or
/// "https://acct.blob.core.windows.net" (no trailing '/').
std::string account_url(const Resolved& r, const std::string& account);

}  // namespace omnio::azure
