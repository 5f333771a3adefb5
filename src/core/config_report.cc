// describe_config / probe_store: the effective settings of a store with their sources, and one
// cheap request through the store's own request path (signing, retries, error mapping).
#include "omnio/config_report.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <chrono>
#include <optional>

#include "backends/azure/azure_resolve.h"
#include "backends/azure/azure_store_impl.h"
#include "backends/gcs/gcs_auth.h"
#include "backends/gcs/gcs_store_impl.h"
#include "backends/s3/s3_resolve.h"
#include "backends/s3/s3_store_impl.h"
#include "http/encoding.h"
#include "http/http_client.h"
#include "omnio/constants.h"
#include "omnio/env.h"
#include "omnio/memory_budget.h"
#include "omnio/store_factory.h"
#include "omnio/units.h"
#include "omnio/uri.h"

namespace omnio {
namespace {

using Entries = std::vector<ConfigEntry>;

// "config" when the value differs from the default, else "default".
template <typename T>
std::string src(const T& value, const T& def) {
  return value == def ? "default" : "config";
}

std::string ms(std::chrono::milliseconds v) { return fmt::format("{} ms", v.count()); }

std::string bytes(std::uint64_t n) {
  if (n >= kMiB && n % kMiB == 0) return fmt::format("{} MiB", n / kMiB);
  if (n >= kKiB && n % kKiB == 0) return fmt::format("{} KiB", n / kKiB);
  return fmt::format("{} B", n);
}

// "AKIA…WXYZ": enough to tell keys apart, never the whole id (and never a secret).
std::string mask(const std::string& id) {
  if (id.size() <= 8) return std::string(id.size(), '*');
  return id.substr(0, 4) + "..." + id.substr(id.size() - 4);
}

// Appends entries under one key prefix; each setter names the source by comparing with the
// default ("config" when it differs).
struct Adder {
  Entries& out;
  std::string prefix;

  void raw(const std::string& k, std::string value, std::string source) {
    out.push_back({prefix + k, std::move(value), std::move(source)});
  }
  template <typename T>
  void num(const std::string& k, T v, T d) {
    raw(k, std::to_string(v), src(v, d));
  }
  void size(const std::string& k, std::uint64_t v, std::uint64_t d) { raw(k, bytes(v), src(v, d)); }
  void flag(const std::string& k, bool v, bool d) { raw(k, v ? "true" : "false", src(v, d)); }
  void dur(const std::string& k, std::chrono::milliseconds v, std::chrono::milliseconds d) {
    raw(k, ms(v), src(v, d));
  }
  void opt_size(const std::string& k, const std::optional<std::size_t>& v, std::size_t def) {
    raw(k, bytes(v.value_or(def)), v ? "config" : "default");
  }

  // What every network store has: transport, retries, the RangeEngine.
  void network(const HttpSettings& h, const RetryPolicy& r, const RangeEngineConfig& re,
               const RangeEngineConfig& dre) {
    const HttpSettings dh;
    num("http.event_loops", h.event_loops, dh.event_loops);
    dur("http.connect_timeout", h.connect_timeout, dh.connect_timeout);
    dur("http.stall_timeout", h.stall_timeout, dh.stall_timeout);
    num("http.max_connecting", h.max_connecting, dh.max_connecting);
    flag("http.http2", h.http2, dh.http2);
    flag("http.verify_tls", h.verify_tls, dh.verify_tls);
    const RetryPolicy dr;
    num("retry.max_attempts", r.max_attempts, dr.max_attempts);
    dur("retry.base_delay", r.base_delay, dr.base_delay);
    dur("retry.max_delay", r.max_delay, dr.max_delay);
    raw("retry.budget_tokens",
        fmt::format("{} per endpoint (retry {}, timeout {}, throttled {})", kRetryBudgetTokens,
                    kRetryCost, kRetryTimeoutCost, kRetryThrottleCost),
        "default");
    range_engine(re, dre);
  }
  void range_engine(const RangeEngineConfig& r, const RangeEngineConfig& d) {
    size("range_engine.chunk_size", r.chunk_size, d.chunk_size);
    num("range_engine.max_concurrent_ranges", r.max_concurrent_ranges, d.max_concurrent_ranges);
    size("range_engine.min_split_size", r.min_split_size, d.min_split_size);
    dur("range_engine.range_timeout", r.range_timeout, d.range_timeout);
  }
};

Status describe_s3(Entries& out, const S3Config& c) {
  OMNIO_ASSIGN_OR_RETURN(s3::Resolved r, s3::resolve(c));
  const S3Config d;
  Adder a{out, "s3."};
  a.raw("endpoint", r.endpoint, r.endpoint_source);
  a.raw("region", r.region, r.region_source);
  if (!c.profile.empty()) {
    a.raw("profile", c.profile, "config");
  } else if (auto v = env::get("AWS_PROFILE")) {
    a.raw("profile", *v, "env AWS_PROFILE");
  } else {
    a.raw("profile", "default", "default");
  }
  a.raw("credentials",
        r.credentials_source == "none"
            ? std::string("none: ") + r.missing_credentials_hint
            : fmt::format("access key id {}{}", mask(r.credentials.access_key_id),
                          r.credentials.session_token.empty() ? "" : " + session token"),
        r.credentials_source);
  const bool path_style = c.path_style.value_or(r.custom_endpoint);
  a.raw("addressing_style", path_style ? "path" : "virtual-hosted",
        c.path_style        ? "config"
        : r.custom_endpoint ? "default (path for a custom endpoint)"
                            : "default (virtual-hosted for AWS)");
  a.raw("ca_bundle", r.ca_bundle.empty() ? "(system store)" : r.ca_bundle,
        !c.http.ca_bundle.empty()   ? "config"
        : env::get("AWS_CA_BUNDLE") ? "env AWS_CA_BUNDLE"
                                    : "default");
  a.opt_size("part_size", c.part_size, kDefaultPartSize);
  a.size("multipart_threshold", c.multipart_threshold, d.multipart_threshold);
  a.num("max_parts_in_flight", c.max_parts_in_flight, d.max_parts_in_flight);
  a.flag("unsigned_payload", c.unsigned_payload, d.unsigned_payload);
  a.flag("checksum_crc32c", c.checksum_crc32c, d.checksum_crc32c);
  a.network(c.http, c.retry, c.range_engine, d.range_engine);
  return ok_status();
}

Status describe_azure(Entries& out, const AzureConfig& c, const std::string& account) {
  OMNIO_ASSIGN_OR_RETURN(azure::Resolved r, azure::resolve(c));
  const AzureConfig d;
  Adder a{out, "azure."};
  const std::string acct = r.account.empty() ? account : r.account;
  a.raw("account", acct, r.account.empty() ? "the URI" : "config or environment");
  a.raw("endpoint", azure::account_url(r, acct), r.endpoint_source);
  a.raw("credentials",
        r.auth == azure::AuthKind::kSharedKey ? "shared key"
        : r.auth == azure::AuthKind::kSas     ? "SAS token"
        : r.auth == azure::AuthKind::kEntra
            ? fmt::format("Entra ID client secret (client id {})", mask(r.client_id))
            : "none (anonymous)",
        r.credentials_source);
  a.opt_size("block_size", c.block_size, kDefaultAzureBlockSize);
  a.size("single_put_threshold", c.single_put_threshold, d.single_put_threshold);
  a.num("max_blocks_in_flight", c.max_blocks_in_flight, d.max_blocks_in_flight);
  a.network(c.http, c.retry, c.range_engine, d.range_engine);
  return ok_status();
}

Status describe_gcs(Entries& out, const GcsConfig& c) {
  http::HttpConfig hc = http::http_config_from(c.http, c.http.ca_bundle);
  hc.event_loops = 1;
  OMNIO_ASSIGN_OR_RETURN(auto token_client, http::HttpClient::create(hc));
  OMNIO_ASSIGN_OR_RETURN(gcs::Resolved r, gcs::resolve(c, token_client));
  const GcsConfig d;
  Adder a{out, "gcs."};
  a.raw("endpoint", r.endpoint, r.endpoint_source);
  a.raw("project", r.project.empty() ? "(none)" : r.project,
        !c.project.empty()                 ? "config"
        : env::get("GOOGLE_CLOUD_PROJECT") ? "env GOOGLE_CLOUD_PROJECT"
                                           : "default");
  a.raw("credentials", r.auth_source, r.tokens ? "resolved" : "none");
  a.size("upload_chunk_size", c.upload_chunk_size, d.upload_chunk_size);
  a.size("single_upload_threshold", c.single_upload_threshold, d.single_upload_threshold);
  a.flag("verify_crc32c", c.verify_crc32c, d.verify_crc32c);
  a.network(c.http, c.retry, c.range_engine, d.range_engine);
  return ok_status();
}

void describe_file(Entries& out, const std::string& p, const FileSystemConfig& c,
                   const FileSystemConfig& d) {
  Adder a{out, p};
  a.flag("use_direct_io", c.use_direct_io, d.use_direct_io);
  a.raw("alignment", c.alignment ? bytes(*c.alignment) : "detected per file system",
        c.alignment == d.alignment ? "default" : "config");
  a.size("io_block_size", c.io_block_size, d.io_block_size);
  a.flag("sync_writes", c.sync_writes, d.sync_writes);
  a.flag("enable_range_engine", c.enable_range_engine, d.enable_range_engine);
  a.flag("allow_buffered_fallback", c.allow_buffered_fallback, d.allow_buffered_fallback);
  a.range_engine(c.range_engine, d.range_engine);
}

// A process-wide knob read from one environment variable.
void add_env_knob(Entries& out, const std::string& key, const char* var, std::string def) {
  if (auto v = env::get(var))
    out.push_back({key, *v, fmt::format("env {}", var)});
  else
    out.push_back({key, std::move(def), "default"});
}

}  // namespace

Result<std::vector<ConfigEntry>> describe_config(std::string_view uri, const Config& config) {
  OMNIO_ASSIGN_OR_RETURN(Scheme scheme, scheme_of(uri));
  Entries out;
  out.push_back({"scheme", std::string(scheme_name(scheme)), "the URI"});
  switch (scheme) {
    case Scheme::kS3:
      OMNIO_TRY(describe_s3(out, config.s3));
      break;
    case Scheme::kAzure: {
      std::string account;
      if (auto u = Uri::parse(uri); u.ok()) account = u->account;
      OMNIO_TRY(describe_azure(out, config.azure, account));
      break;
    }
    case Scheme::kGcs:
      OMNIO_TRY(describe_gcs(out, config.gcs));
      break;
    case Scheme::kFile:
      describe_file(out, "file.", config.file, FileSystemConfig::buffered());
      break;
    case Scheme::kDirect:
      describe_file(out, "direct.", config.direct, FileSystemConfig::direct_io());
      break;
  }
  add_env_knob(out, "log_level", "OMNIO_LOG_LEVEL", kDefaultLogLevel);
  add_env_knob(out, "io_threads", "OMNIO_IO_THREADS", std::to_string(kDefaultIoThreads));
  {
    // The effective limit; where it came from is told by comparing with what env and the default
    // would give (a different value was set by --memory-budget or MemoryBudget::set_limit).
    const std::uint64_t limit = MemoryBudget::process().limit();
    const std::string value = limit == 0 ? "off" : format_bytes(static_cast<double>(limit));
    std::string source = "flag or API";
    if (auto v = env::get("OMNIO_MEMORY_BUDGET")) {
      if (auto p = MemoryBudget::parse_limit(*v); p.ok() && *p == limit)
        source = "env OMNIO_MEMORY_BUDGET";
    } else if (limit == MemoryBudget::default_limit()) {
      source = "default (half of memory)";
    }
    out.push_back({"memory_budget", value, source});
  }
  add_env_knob(out, "loader.batch_size", "OMNIO_LOADER_BATCH_SIZE",
               std::to_string(kDefaultLoaderBatchSize));
  add_env_knob(out, "loader.pool_size", "OMNIO_LOADER_POOL_SIZE",
               std::to_string(kDefaultLoaderPoolSize));
  add_env_knob(out, "loader.readahead_batches", "OMNIO_LOADER_READAHEAD_BATCHES",
               std::to_string(kDefaultLoaderReadaheadBatches));
  return out;
}

Result<ProbeResult> probe_store(std::string_view uri, const Config& config) {
  using Clock = std::chrono::steady_clock;
  OMNIO_ASSIGN_OR_RETURN(Uri u, Uri::parse(uri));
  OMNIO_ASSIGN_OR_RETURN(auto store, store_for_uri(uri, config));
  ProbeResult pr;
  const auto t0 = Clock::now();
  if (u.is_local()) {
    pr.request = fmt::format("STAT {}", u.path);
    struct stat st {};
    if (::stat(u.path.c_str(), &st) != 0) return errno_error(errno, pr.request);
  } else if (auto* s3 = dynamic_cast<s3::S3Store*>(store.get())) {
    s3::Call c;
    if (u.bucket.empty()) {
      c.what = pr.request = "LIST s3:// (buckets)";
    } else {
      c.bucket = u.bucket;
      c.query = {{"list-type", "2"}, {"prefix", u.key}, {"max-keys", "1"}};
      c.what = pr.request = fmt::format("LIST s3://{}/{} (max 1 key)", u.bucket, u.key);
    }
    OMNIO_TRY(s3->perform(std::move(c)));
  } else if (auto* az = dynamic_cast<azure::AzureStore*>(store.get())) {
    azure::Call c;
    c.target = {u.account, u.bucket, ""};
    if (u.bucket.empty()) {
      c.query = {{"comp", "list"}, {"maxresults", "1"}};
      c.what = pr.request = fmt::format("LIST az://{} (max 1 container)", u.account);
    } else {
      c.query = {{"restype", "container"}, {"comp", "list"}, {"maxresults", "1"}};
      if (!u.key.empty()) c.query.emplace_back("prefix", u.key);
      c.what = pr.request =
          fmt::format("LIST az://{}/{}/{} (max 1 blob)", u.account, u.bucket, u.key);
    }
    OMNIO_TRY(az->perform(std::move(c)));
  } else if (auto* gs = dynamic_cast<gcs::GcsStore*>(store.get())) {
    gcs::Call c;
    c.kind = gcs::Call::Kind::kList;
    if (u.bucket.empty()) {
      c.path = "/storage/v1/b";
      c.query = {{"maxResults", "1"}};
      if (!gs->resolved().project.empty()) c.query.emplace_back("project", gs->resolved().project);
      c.what = pr.request = "LIST gs:// (max 1 bucket)";
    } else {
      c.path = "/storage/v1/b/" + http::percent_encode(u.bucket) + "/o";
      c.query = {{"prefix", u.key}, {"maxResults", "1"}};
      c.what = pr.request = fmt::format("LIST gs://{}/{} (max 1 object)", u.bucket, u.key);
    }
    OMNIO_TRY(gs->perform(std::move(c)));
  } else {
    pr.request = fmt::format("LIST {}", uri);
    OMNIO_TRY(store->list_entries(uri, false));
  }
  pr.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return pr;
}

}  // namespace omnio
