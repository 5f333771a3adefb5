#include "backends/azure/azure_resolve.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "http/encoding.h"
#include "omnio/env.h"

namespace omnio::azure {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// An IP address or localhost: Azurite and other emulators serve accounts path-style there.
bool path_style_host(std::string_view host) {
  auto colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']') == std::string_view::npos)
    host = host.substr(0, colon);
  if (host == "localhost" || host.front() == '[') return true;
  return std::all_of(host.begin(), host.end(),
                     [](unsigned char c) { return std::isdigit(c) || c == '.'; });
}

// Checks and normalises an endpoint: "http(s)://host[:port][/account]".
Status set_endpoint(std::string url, std::string source, Resolved* r) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  auto sep = url.find("://");
  const std::string scheme = sep == std::string::npos ? std::string() : url.substr(0, sep);
  if (scheme != "http" && scheme != "https") {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("Azure endpoint '{}' ({}) must start with http:// or https://, e.g. "
                             "http://127.0.0.1:10000",
                             url, source));
  }
  std::string rest = url.substr(sep + 3);
  if (rest.empty() || rest.front() == '/') {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("Azure endpoint '{}' ({}) has no host", url, source));
  }
  auto slash = rest.find('/');
  const std::string host = rest.substr(0, slash);
  if (slash == std::string::npos) {
    r->path_style = path_style_host(host);
  } else {
    // "http://127.0.0.1:10000/devstoreaccount1": the account's own base URL.
    r->path_style = false;
    if (r->account.empty()) r->account = rest.substr(rest.rfind('/') + 1);
  }
  r->endpoint = url;
  r->endpoint_source = std::move(source);
  return ok_status();
}

Status set_key(const std::string& key, std::string source, Resolved* r) {
  auto raw = http::base64_decode(trim(key));
  if (!raw || raw->empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("the Azure account key ({}) is not base64", source));
  }
  r->auth = AuthKind::kSharedKey;
  r->key = std::move(*raw);
  r->credentials_source = std::move(source);
  return ok_status();
}

void set_sas(std::string sas, std::string source, Resolved* r) {
  sas = trim(sas);
  if (!sas.empty() && sas.front() == '?') sas.erase(0, 1);
  r->auth = AuthKind::kSas;
  r->sas = std::move(sas);
  r->credentials_source = std::move(source);
}

}  // namespace

std::map<std::string, std::string> parse_connection_string(std::string_view s) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t semi = s.find(';', pos);
    std::string_view part =
        s.substr(pos, semi == std::string_view::npos ? std::string_view::npos : semi - pos);
    pos = semi == std::string_view::npos ? s.size() : semi + 1;
    auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    out[trim(part.substr(0, eq))] = trim(part.substr(eq + 1));
  }
  return out;
}

Result<Resolved> resolve(const AzureConfig& c) {
  Resolved r;
  r.account = c.account;
  // 1. Explicit configuration.
  if (!c.endpoint.empty()) OMNIO_TRY(set_endpoint(c.endpoint, "config", &r));
  if (!c.account_key.empty()) {
    OMNIO_TRY(set_key(c.account_key, "config", &r));
  } else if (!c.sas_token.empty()) {
    set_sas(c.sas_token, "config", &r);
  } else if (!c.client_secret.empty()) {
    r.auth = AuthKind::kEntra;
    r.credentials_source = "config (Entra ID client secret)";
  }
  r.tenant_id = c.tenant_id;
  r.client_id = c.client_id;
  r.client_secret = c.client_secret;
  r.authority_host = c.authority_host;

  // 2. A connection string (explicit, else from the environment).
  std::string cs_source = "connection string (config)";
  std::string cs = c.connection_string;
  if (cs.empty()) {
    cs = env::get("AZURE_STORAGE_CONNECTION_STRING").value_or("");
    cs_source = "connection string (AZURE_STORAGE_CONNECTION_STRING)";
  }
  if (!cs.empty()) {
    auto kv = parse_connection_string(cs);
    if (kv.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("the Azure {} has no Name=value pairs", cs_source));
    }
    if (r.account.empty() && kv.count("AccountName")) r.account = kv["AccountName"];
    if (r.endpoint.empty()) {
      if (kv.count("BlobEndpoint")) {
        OMNIO_TRY(set_endpoint(kv["BlobEndpoint"], cs_source, &r));
      } else if (kv.count("EndpointSuffix") && !r.account.empty()) {
        const std::string proto =
            kv.count("DefaultEndpointsProtocol") ? kv["DefaultEndpointsProtocol"] : "https";
        OMNIO_TRY(set_endpoint(
            fmt::format("{}://{}.blob.{}", proto, r.account, kv["EndpointSuffix"]), cs_source, &r));
      }
    }
    if (r.auth == AuthKind::kNone) {
      if (kv.count("AccountKey"))
        OMNIO_TRY(set_key(kv["AccountKey"], cs_source, &r));
      else if (kv.count("SharedAccessSignature"))
        set_sas(kv["SharedAccessSignature"], cs_source, &r);
    }
  }

  // 3. AZURE_STORAGE_* variables.
  if (r.account.empty()) r.account = env::get("AZURE_STORAGE_ACCOUNT").value_or("");
  if (r.endpoint.empty()) {
    if (auto e = env::get("AZURE_STORAGE_ENDPOINT"))
      OMNIO_TRY(set_endpoint(*e, "AZURE_STORAGE_ENDPOINT", &r));
  }
  if (r.auth == AuthKind::kNone) {
    if (auto k = env::get("AZURE_STORAGE_KEY"))
      OMNIO_TRY(set_key(*k, "AZURE_STORAGE_KEY", &r));
    else if (auto s = env::get("AZURE_STORAGE_SAS_TOKEN"))
      set_sas(*s, "AZURE_STORAGE_SAS_TOKEN", &r);
  }

  // 4. Entra ID client secret.
  if (r.tenant_id.empty()) r.tenant_id = env::get("AZURE_TENANT_ID").value_or("");
  if (r.client_id.empty()) r.client_id = env::get("AZURE_CLIENT_ID").value_or("");
  if (r.client_secret.empty()) r.client_secret = env::get("AZURE_CLIENT_SECRET").value_or("");
  if (r.authority_host.empty()) {
    r.authority_host = env::get("AZURE_AUTHORITY_HOST").value_or(kDefaultAzureAuthorityHost);
  }
  while (!r.authority_host.empty() && r.authority_host.back() == '/') r.authority_host.pop_back();
  if (r.auth == AuthKind::kNone && !r.client_secret.empty()) {
    r.auth = AuthKind::kEntra;
    r.credentials_source = "env (AZURE_CLIENT_SECRET)";
  }
  if (r.auth == AuthKind::kEntra && (r.tenant_id.empty() || r.client_id.empty())) {
    return Error(ErrorCode::kInvalidArgument,
                 "Entra ID client-secret credentials need a tenant id and a client id "
                 "(AZURE_TENANT_ID, AZURE_CLIENT_ID)");
  }
  if (r.auth == AuthKind::kNone) r.credentials_source = "none";
  if (r.endpoint_source.empty())
    r.endpoint_source = "default (https://<account>.blob.core.windows.net)";
  return r;
}

std::string account_url(const Resolved& r, const std::string& account) {
  if (r.endpoint.empty()) return fmt::format("https://{}.blob.core.windows.net", account);
  if (r.path_style) return r.endpoint + "/" + account;
  return r.endpoint;
}

}  // namespace omnio::azure
