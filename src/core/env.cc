// The only file in omnio that reads environment variables.
#include "omnio/env.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace omnio::env {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

const std::vector<KnownVariable>& known_variables() {
  static const std::vector<KnownVariable> vars = {
      {"OMNIO_LOG_LEVEL", "log level: trace, debug, info, warn (default), error, off"},
      {"OMNIO_IO_THREADS", "threads of the blocking local-I/O pool (default 32)"},
      {"OMNIO_MEMORY_BUDGET",
       "bytes of large buffers held at once (512MiB, 4GiB, 25%, off); default half of memory"},
      {"OMNIO_WERROR", "build only: ON makes CMakePresets.json treat warnings as errors"},
      {"OMNIO_LOADER_BATCH_SIZE", "DataLoader batch_size default (LoaderConfig::Builder)"},
      {"OMNIO_LOADER_POOL_SIZE", "DataLoader pool_size default: item requests in flight"},
      {"OMNIO_LOADER_READAHEAD_BATCHES", "DataLoader readahead_batches default"},
      {"AWS_ACCESS_KEY_ID", "S3 access key id (after explicit config, before the shared files)"},
      {"AWS_SECRET_ACCESS_KEY", "S3 secret access key"},
      {"AWS_SESSION_TOKEN", "S3 session token (temporary credentials)"},
      {"AWS_PROFILE", "profile of the shared config/credentials files (default: default)"},
      {"AWS_SHARED_CREDENTIALS_FILE", "credentials file (default: ~/.aws/credentials)"},
      {"AWS_CONFIG_FILE", "config file (default: ~/.aws/config)"},
      {"AWS_REGION", "S3 region (before AWS_DEFAULT_REGION and the profile)"},
      {"AWS_DEFAULT_REGION", "S3 region when AWS_REGION is unset"},
      {"AWS_ENDPOINT_URL_S3", "S3 endpoint URL (before AWS_ENDPOINT_URL)"},
      {"AWS_ENDPOINT_URL", "endpoint URL for every AWS service"},
      {"AWS_CA_BUNDLE", "PEM bundle of trusted CAs for TLS"},
      {"HOME", "home directory: where ~/.aws/ and ~/.config/gcloud/ are looked up"},
      // gs:// (Google Cloud Storage)
      {"GOOGLE_APPLICATION_CREDENTIALS", "GCS service-account or authorized-user JSON file"},
      {"STORAGE_EMULATOR_HOST",
       "GCS emulator host[:port] or URL: custom endpoint, anonymous access"},
      {"GCS_ENDPOINT_URL", "GCS JSON API endpoint URL (after STORAGE_EMULATOR_HOST)"},
      {"GOOGLE_CLOUD_PROJECT", "GCS project for bucket create/list"},
      {"CLOUDSDK_CONFIG", "gcloud config directory (application_default_credentials.json)"},
      {"GCE_METADATA_HOST", "GCE metadata server host[:port] (default metadata.google.internal)"},
      {"AZURE_STORAGE_CONNECTION_STRING",
       "Azure connection string (AccountName, AccountKey, "
       "SharedAccessSignature, BlobEndpoint)"},
      {"AZURE_STORAGE_ACCOUNT", "Azure storage account"},
      {"AZURE_STORAGE_KEY", "Azure account key (SharedKey signing)"},
      {"AZURE_STORAGE_SAS_TOKEN", "Azure SAS token"},
      {"AZURE_STORAGE_ENDPOINT", "Azure blob endpoint URL (e.g. Azurite's http://127.0.0.1:10000)"},
      {"AZURE_TENANT_ID", "Entra ID tenant (client-secret OAuth2)"},
      {"AZURE_CLIENT_ID", "Entra ID application (client) id"},
      {"AZURE_CLIENT_SECRET", "Entra ID client secret"},
      {"AZURE_AUTHORITY_HOST", "Entra ID authority (default https://login.microsoftonline.com)"},
  };
  return vars;
}

std::optional<std::string> get(std::string_view name) {
  const auto& vars = known_variables();
  [[maybe_unused]] bool known =
      std::any_of(vars.begin(), vars.end(), [&](const KnownVariable& v) { return v.name == name; });
  assert(known && "add the variable to known_variables()");
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

namespace {
// Variables of the project's scripts (scripts/, bench/, tests/): never read by the library, so
// not in known_variables(), and not worth a warning either.
constexpr std::string_view kScriptPrefixes[] = {"OMNIO_TEST_", "OMNIO_BENCH_", "OMNIO_SKIP_DEPS",
                                                "OMNIO_MOTO_", "OMNIO_CEPH_",  "OMNIO_RGW_",
                                                "OMNIO_NGINX_"};
bool is_script_variable(std::string_view name) {
  return std::any_of(std::begin(kScriptPrefixes), std::end(kScriptPrefixes),
                     [&](std::string_view p) { return name.substr(0, p.size()) == p; });
}
}  // namespace

// Known names closest to `name` (edit distance), or empty when none is within `max_d`.
std::string_view nearest_known(std::string_view name, std::size_t max_d) {
  std::string_view best;
  std::size_t best_d = max_d + 1;
  for (const auto& v : known_variables()) {
    std::size_t d = edit_distance(name, v.name);
    if (d < best_d) {
      best_d = d;
      best = v.name;
    }
  }
  return best;
}

bool is_known(std::string_view name) {
  const auto& vars = known_variables();
  return std::any_of(vars.begin(), vars.end(),
                     [&](const KnownVariable& v) { return v.name == name; });
}

// Prefixes of other tools' families: a set variable is suspicious only when it is a near miss.
constexpr std::string_view kFamilyPrefixes[] = {"AWS_", "AZURE_",   "GOOGLE_",  "GCS_",
                                                "GCE_", "STORAGE_", "CLOUDSDK_"};

std::vector<SuspiciousVariable> suspicious_variables() {
  std::vector<SuspiciousVariable> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    if (is_known(name)) continue;
    if (name.substr(0, 6) == "OMNIO_") {
      // Every OMNIO_* name is ours: an unknown one is always worth a warning.
      if (is_script_variable(name)) continue;
      out.push_back({std::string(name), std::string(nearest_known(name, 3))});
      continue;
    }
    const bool family =
        std::any_of(std::begin(kFamilyPrefixes), std::end(kFamilyPrefixes),
                    [&](std::string_view p) { return name.substr(0, p.size()) == p; });
    // AWS_ENDPOINT_URL_<SERVICE> are other services' endpoints, not typos of ..._S3.
    if (!family || name.substr(0, 17) == "AWS_ENDPOINT_URL_") continue;
    // Other tools read many AWS_* / AZURE_* / GOOGLE_* names omnio does not: warn only about a
    // likely misspelling of one omnio reads (distance 1-2, and small against the name's length).
    const std::size_t max_d = std::min<std::size_t>(2, name.size() / 6);
    std::string_view near = nearest_known(name, max_d);
    if (!near.empty()) out.push_back({std::string(name), std::string(near)});
  }
  std::sort(out.begin(), out.end(), [](const SuspiciousVariable& a, const SuspiciousVariable& b) {
    return a.name < b.name;
  });
  return out;
}

std::string SuspiciousVariable::message() const {
  if (nearest.empty()) return fmt::format("{} is set but omnio does not read it", name);
  return fmt::format("{} is set but omnio does not read it (did you mean {}?)", name, nearest);
}

std::vector<std::string> unknown_omnio_variables() {
  std::vector<std::string> out;
  for (const auto& v : suspicious_variables()) {
    if (v.name.substr(0, 6) != "OMNIO_") continue;
    out.push_back(v.nearest.empty() ? v.name
                                    : fmt::format("{} (did you mean {}?)", v.name, v.nearest));
  }
  return out;
}

}  // namespace omnio::env
