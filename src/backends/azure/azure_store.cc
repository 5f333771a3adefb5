// az:// store: request signing (SharedKey, SAS, Entra ID bearer), error mapping, the read path
// (shared with s3://: the first ranged GET learns the size, later ranges carry If-Match), Get Blob
// Properties, List Blobs, deletes and containers.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <mutex>

#include "backends/azure/azure_store_impl.h"
#include "backends/azure/azure_xml.h"
#include "backends/azure/shared_key.h"
#include "core/failures.h"
#include "http/encoding.h"
#include "http/http_date.h"
#include "http/status.h"
#include "omnio/log.h"
#include "omnio/uri.h"

namespace omnio::azure {
namespace {

bool is_2xx(long s) { return s >= 200 && s < 300; }

// The path component of a base URL ("http://h:1/acct" -> "/acct", "https://h" -> "").
std::string url_path(const std::string& base) {
  auto sep = base.find("://");
  auto slash = base.find('/', sep == std::string::npos ? 0 : sep + 3);
  return slash == std::string::npos ? std::string() : base.substr(slash);
}

}  // namespace

// ---- errors -------------------------------------------------------------------------------------

Error azure_error(const http::Response& resp, const std::string& what,
                  const std::string& endpoint) {
  const int status = static_cast<int>(resp.status);
  auto doc = parse_error(resp.body);
  std::string code(resp.header("x-ms-error-code"));
  if (code.empty() && doc) code = doc->code;
  const std::string request_id(resp.header("x-ms-request-id"));
  ErrorCode ec = http::error_code_for_status(status);
  if (status == 409 && code == "ContainerBeingDeleted") {
    ec = ErrorCode::kUnavailable;
  } else if (status == 503 && (code == "ServerBusy" || code.empty())) {
    ec = ErrorCode::kResourceExhausted;
  }
  std::string detail;
  if (status == 412) {
    detail =
        "the blob changed while it was being read (If-Match precondition failed); "
        "nothing was returned";
  } else if (status == 503 && ec == ErrorCode::kResourceExhausted) {
    detail = fmt::format("throttled by the server ({})", code.empty() ? "503" : code);
  } else if (!code.empty()) {
    std::string msg = doc ? doc->message : std::string();
    if (auto nl = msg.find('\n'); nl != std::string::npos)
      msg.resize(nl);  // drop "RequestId:..." lines
    detail = msg.empty() ? code : fmt::format("{}: {}", code, msg);
    if (status == 403 && (code == "AuthenticationFailed" || code == "AuthorizationFailure")) {
      detail += " (check the account key, SAS token or Entra ID credentials)";
    }
  } else if (status == 404) {
    detail = "not found";
  } else {
    detail = fmt::format("HTTP {}", status);
  }
  return http::service_error(
      ec, what, detail,
      {status, code, request_id, endpoint, ec == ErrorCode::kResourceExhausted && status == 503});
}

// ---- construction and requests ------------------------------------------------------------------

AzureStore::AzureStore(AzureConfig config, Resolved resolved,
                       std::shared_ptr<http::HttpClient> client)
    : cfg_(std::move(config)),
      res_(std::move(resolved)),
      http_(std::move(client)),
      // Without an endpoint each account is its own (https://<account>.blob.core.windows.net).
      budget_(http::RetryBudget::for_endpoint(res_.endpoint.empty() ? "https://" + res_.account +
                                                                          ".blob.core.windows.net"
                                                                    : res_.endpoint)),
      reader_(cfg_.range_engine) {
  if (res_.auth == AuthKind::kEntra) {
    tokens_ =
        std::make_unique<TokenProvider>(http_, cfg_.retry,
                                        ClientSecretCredential{res_.authority_host, res_.tenant_id,
                                                               res_.client_id, res_.client_secret});
  }
}

Result<Target> AzureStore::target(std::string_view uri, bool need_key) const {
  OMNIO_ASSIGN_OR_RETURN(Uri u, Uri::parse(uri));
  if (u.scheme != Scheme::kAzure) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("'{}' is not an az:// URI (expected az://account/container/blob)", uri));
  }
  if (need_key && u.key.empty()) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("'{}' names a container, not a blob (expected az://account/container/blob)",
                    uri));
  }
  return Target{u.account, u.bucket, u.key};
}

std::string AzureStore::uri_of(const Target& t) {
  return "az://" + t.account + "/" + t.container + "/" + t.key;
}

std::string AzureStore::path_of(const Target& t) const {
  std::string p = url_path(account_url(res_, t.account));
  if (!t.container.empty()) {
    p += "/" + t.container;
    if (!t.key.empty()) p += "/" + http::uri_encode(t.key, false);
  } else if (p.empty()) {
    p = "/";
  }
  return p;
}

std::string AzureStore::blob_url(const Target& t) const {
  const std::string base = account_url(res_, t.account);
  return base.substr(0, base.size() - url_path(base).size()) + path_of(t);
}

Result<http::Request> AzureStore::sign(const Call& c, const std::string& bearer) const {
  const Target& t = c.target;
  if (res_.auth == AuthKind::kSharedKey && !res_.account.empty() && t.account != res_.account) {
    return Error(ErrorCode::kPermissionDenied,
                 fmt::format("{}: the account key is for account '{}', the URI names account '{}'",
                             c.what, res_.account, t.account));
  }
  const std::string path = path_of(t);
  std::string query;
  for (const auto& [k, v] : c.query) {
    query +=
        (query.empty() ? "?" : "&") + http::uri_encode(k, true) + "=" + http::uri_encode(v, true);
  }
  if (res_.auth == AuthKind::kSas && !res_.sas.empty())
    query += (query.empty() ? "?" : "&") + res_.sas;
  const std::string base = account_url(res_, t.account);
  http::Request r;
  c.fill(r);
  r.url = base.substr(0, base.size() - url_path(base).size()) + path + query;
  r.headers = c.headers;
  r.headers.emplace_back("x-ms-date", http::http_date_now());
  r.headers.emplace_back("x-ms-version", kAzureApiVersion);
  if (res_.auth == AuthKind::kSharedKey) {
    SharedKeyInput in;
    in.method = c.method;
    in.account = t.account;
    in.encoded_path = path;
    in.query = c.query;
    in.headers = r.headers;
    in.content_length = c.body.size();
    r.headers.emplace_back("Authorization", shared_key_authorization(in, res_.key));
  } else if (res_.auth == AuthKind::kEntra) {
    r.headers.emplace_back("Authorization", "Bearer " + bearer);
  }
  return r;
}

void AzureStore::submit(Call call, http::Completion done) {
  // Raw: every caller waits for its calls, so the store outlives them.
  AzureStore* self = this;
  std::string bearer;
  if (tokens_) {
    // Fetched on the caller's thread (never on an HTTP loop): cached, refreshed before expiry.
    auto tok = tokens_->token(call.cancel);
    if (!tok.ok()) return done(tok.error().wrap(call.what));
    bearer = std::move(*tok);
  }
  http::RetryingCall rc;
  rc.what = call.what;
  rc.idempotent = call.idempotent;
  rc.cancel = call.cancel;
  const std::string endpoint = account_url(res_, call.target.account);
  auto counters = counters_;
  rc.make = [self, call = std::move(call), bearer = std::move(bearer), counters](int attempt) {
    counters->requests.fetch_add(1, std::memory_order_relaxed);
    if (attempt > 1) counters->retries.fetch_add(1, std::memory_order_relaxed);
    const std::string& m = call.method;
    const bool listing = std::any_of(call.query.begin(), call.query.end(), [](const auto& q) {
      return q.first == "comp" && q.second == "list";
    });
    auto& n = listing         ? counters->lists
              : m == "GET"    ? counters->gets
              : m == "HEAD"   ? counters->heads
              : m == "DELETE" ? counters->deletes
                              : counters->puts;
    n.fetch_add(1, std::memory_order_relaxed);
    return self->sign(call, bearer);
  };
  rc.check = [what = rc.what, endpoint](Result<http::Response> r) -> Result<http::Response> {
    if (!r.ok() || is_2xx(r->status)) return r;
    return azure_error(*r, what, endpoint);
  };
  http::submit_with_retry(http_, cfg_.retry, budget_, std::move(rc), std::move(done));
}

Result<http::Response> AzureStore::perform(Call call) {
  return http::wait_for([&](http::Completion done) { submit(std::move(call), std::move(done)); });
}

AzureStoreStats AzureStore::stats() const {
  AzureStoreStats s;
  s.requests = counters_->requests.load();
  s.gets = counters_->gets.load();
  s.heads = counters_->heads.load();
  s.puts = counters_->puts.load();
  s.deletes = counters_->deletes.load();
  s.lists = counters_->lists.load();
  s.retries = counters_->retries.load();
  return s;
}

// ---- reads --------------------------------------------------------------------------------------

Result<ObjectMetadata> AzureStore::properties(const Target& t, const std::string& what) {
  Call c;
  c.method = "HEAD";
  c.target = t;
  c.what = what;
  OMNIO_ASSIGN_OR_RETURN(http::Response r, perform(std::move(c)));
  ObjectMetadata m;
  std::string_view len = r.header("content-length");
  std::from_chars(len.data(), len.data() + len.size(), m.size);
  m.etag = std::string(r.header("etag"));
  m.last_modified = http::to_rfc3339(r.header("last-modified"));
  m.content_type = std::string(r.header("content-type"));
  std::string_view tier = r.header("x-ms-access-tier");
  m.storage_class = tier.empty() ? "Hot" : std::string(tier);
  for (const auto& [k, v] : r.headers) {
    if (k.rfind("x-ms-meta-", 0) == 0) m.metadata[k.substr(10)] = v;
  }
  return m;
}

http::RangedSource AzureStore::source(const Target& t) {
  AzureStore* self = this;  // every read waits for its requests before returning
  http::RangedSource src;
  src.uri = uri_of(t);
  src.send = [self, t, uri = src.uri](const http::RangeRequest& r, const CancellationToken& cancel,
                                      http::Completion done) {
    Call c;
    c.target = t;
    r.apply(c, "x-ms-range", uri);
    c.timeout = self->cfg_.range_engine.range_timeout;
    c.cancel = cancel;
    self->submit(std::move(c), std::move(done));
  };
  src.head = [self, t, uri = src.uri] { return self->properties(t, "GET PROPERTIES " + uri); };
  return src;
}

Result<Bytes> AzureStore::get(std::string_view uri, const ReadOptions& opts) {
  return get_range(uri, 0, std::nullopt, opts);
}

Result<Bytes> AzureStore::get_range(std::string_view uri, std::uint64_t offset,
                                    std::optional<std::uint64_t> length, const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  return reader_.get_range(source(t), offset, length, opts);
}

Result<Bytes> AzureStore::get_with_buffer(std::string_view uri, const BufferSource& buffer_for,
                                          const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  return reader_.get_with_buffer(source(t), buffer_for, opts);
}

Result<std::uint64_t> AzureStore::get_into(std::string_view uri, std::uint64_t offset,
                                           std::span<std::byte> dest, const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  return reader_.get_into(source(t), offset, dest, opts);
}

Status AzureStore::get_to_sink(std::string_view uri, const ChunkSink& sink,
                               const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  return reader_.get_to_sink(source(t), sink, opts);
}

Result<std::uint64_t> AzureStore::get_positional(std::string_view uri,
                                                 const PositionalWriter& writer,
                                                 const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  return reader_.get_positional(source(t), writer, opts);
}

// ---- metadata and namespace
// ----------------------------------------------------------------------

Result<ObjectMetadata> AzureStore::stat(std::string_view uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  return properties(t, "GET PROPERTIES " + uri_of(t));
}

Status AzureStore::list_stream(std::string_view prefix_uri, bool recursive, const ListSink& sink,
                               const CancellationToken& cancel) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(prefix_uri, false));
  std::string marker;
  std::vector<ListEntry> page_entries;  // one page: blobs and prefixes come in name order
  do {
    Call c;
    c.target = {t.account, t.container, ""};
    c.query = {{"restype", "container"},
               {"comp", "list"},
               {"maxresults", std::to_string(cfg_.list_page_size)}};
    if (!t.key.empty()) c.query.emplace_back("prefix", t.key);
    if (!recursive) c.query.emplace_back("delimiter", "/");
    if (!marker.empty()) c.query.emplace_back("marker", marker);
    c.what = fmt::format("LIST {}", prefix_uri);
    c.cancel = cancel;
    OMNIO_ASSIGN_OR_RETURN(http::Response r, perform(std::move(c)));
    auto page = parse_list_blobs(r.body);
    if (!page.ok()) return page.error().wrap(fmt::format("LIST {}", prefix_uri));
    page_entries.clear();
    for (auto& b : page->blobs)
      page_entries.push_back({uri_of({t.account, t.container, b.name}), b.size, false});
    for (auto& p : page->prefixes)
      page_entries.push_back({uri_of({t.account, t.container, p}), 0, true});
    std::sort(page_entries.begin(), page_entries.end(),
              [](const ListEntry& a, const ListEntry& b) { return a.uri < b.uri; });
    for (auto& e : page_entries) {
      OMNIO_TRY(check_listing_cancel(prefix_uri, cancel));
      OMNIO_TRY(sink(std::move(e)));
    }
    marker = page->next_marker;
  } while (!marker.empty());
  return ok_status();
}

Result<std::vector<ListEntry>> AzureStore::list_entries(std::string_view prefix_uri,
                                                        bool recursive) {
  return collect_list_stream(prefix_uri, recursive);
}

Result<std::vector<std::string>> AzureStore::list_containers(std::string_view root_uri) {
  // "az://account" or "az://" (the configured account).
  std::string_view rest = root_uri;
  if (rest.substr(0, 5) == "az://") rest.remove_prefix(5);
  std::string account(rest.substr(0, rest.find('/')));
  if (account.empty()) account = res_.account;
  if (account.empty()) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("'{}': no storage account (use az://account or set AZURE_STORAGE_ACCOUNT)",
                    root_uri));
  }
  std::vector<std::string> out;
  std::string marker;
  do {
    Call c;
    c.target = {account, "", ""};
    c.query = {{"comp", "list"}, {"maxresults", std::to_string(cfg_.list_page_size)}};
    if (!marker.empty()) c.query.emplace_back("marker", marker);
    c.what = fmt::format("LIST az://{} (containers)", account);
    OMNIO_ASSIGN_OR_RETURN(http::Response r, perform(std::move(c)));
    auto page = parse_list_containers(r.body);
    if (!page.ok()) return page.error().wrap(fmt::format("LIST az://{}", account));
    for (auto& n : page->names) out.push_back("az://" + account + "/" + n);
    marker = page->next_marker;
  } while (!marker.empty());
  std::sort(out.begin(), out.end());
  return out;
}

Status AzureStore::delete_object(std::string_view uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  Call c;
  c.method = "DELETE";
  c.target = t;
  c.what = "DELETE " + uri_of(t);
  OMNIO_TRY(perform(std::move(c)));  // a missing blob is 404 BlobNotFound: kNotFound
  return ok_status();
}

Result<std::uint64_t> AzureStore::delete_prefix(std::string_view prefix_uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(prefix_uri, false));
  const std::size_t strip = 5 + t.account.size() + 1 + t.container.size() + 1;  // "az://a/c/"
  // Concurrent single deletes under a bound, started as the listing streams (one page in memory,
  // whatever the blob count); every failure is collected and reported.
  std::mutex mu;
  std::condition_variable cv;
  std::size_t inflight = 0, deleted = 0, blobs = 0;
  std::vector<std::string> failed;
  Status listed = list_stream(prefix_uri, true, [&](ListEntry&& e) -> Status {
    if (e.is_dir) return ok_status();
    Target b{t.account, t.container, e.uri.substr(strip)};
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return inflight < kDefaultAzureDeleteConcurrency; });
      ++inflight;
      ++blobs;
    }
    Call c;
    c.method = "DELETE";
    c.what = "DELETE " + uri_of(b);
    c.target = b;
    submit(std::move(c), [&, key = std::move(b.key)](Result<http::Response> r) {
      std::lock_guard g(mu);
      if (r.ok())
        ++deleted;
      else
        failed.push_back(fmt::format("{} ({})", key, r.error().to_string()));
      --inflight;
      cv.notify_all();
    });
    return ok_status();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return inflight == 0; });  // the callbacks use this frame
  std::sort(failed.begin(), failed.end());
  if (!listed.ok()) {
    return listed.error().wrap(fmt::format(
        "delete_prefix {}: the listing failed after {} deletes ({} failed{}{})", prefix_uri,
        deleted, failed.size(), failed.empty() ? "" : ": ", name_failures(failed)));
  }
  if (!failed.empty()) {
    const std::string names = name_failures(failed);
    return Error(ErrorCode::kUnavailable,
                 fmt::format("delete_prefix {}: {} of {} deletes failed ({} deleted): {}",
                             prefix_uri, failed.size(), blobs, deleted, names));
  }
  return static_cast<std::uint64_t>(deleted);
}

namespace {

Result<Target> container_target(const AzureStore& s, std::string_view uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, s.target(uri, false));
  if (!t.key.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("'{}' is not a container URI (expected az://account/container)", uri));
  }
  return t;
}

}  // namespace

Status AzureStore::create_container(std::string_view container_uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, container_target(*this, container_uri));
  Call c;
  c.method = "PUT";
  c.target = t;
  c.query = {{"restype", "container"}};
  c.what = fmt::format("CREATE CONTAINER az://{}/{}", t.account, t.container);
  auto r = perform(std::move(c));
  if (!r.ok()) {
    // Idempotent: an existing container is success (409 ContainerAlreadyExists).
    // Also when an earlier attempt created it and its answer was lost (the cause says so).
    if (r.error().http_status() == 409 &&
        r.error().to_string().find("ContainerAlreadyExists") != std::string::npos) {
      return ok_status();
    }
    return std::move(r).error();
  }
  return ok_status();
}

Status AzureStore::delete_container(std::string_view container_uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, container_target(*this, container_uri));
  const std::string name = fmt::format("az://{}/{}", t.account, t.container);
  // Azure deletes a container with everything in it; omnio's contract deletes only empty ones.
  Call probe;
  probe.target = t;
  probe.query = {{"restype", "container"}, {"comp", "list"}, {"maxresults", "1"}};
  probe.what = "DELETE CONTAINER " + name;
  OMNIO_ASSIGN_OR_RETURN(http::Response r, perform(std::move(probe)));
  auto page = parse_list_blobs(r.body);
  if (!page.ok()) return page.error().wrap("DELETE CONTAINER " + name);
  if (!page->blobs.empty()) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("DELETE CONTAINER {}: the container is not empty (delete its blobs first: "
                    "omnio rm -r {}/)",
                    name, name));
  }
  Call c;
  c.method = "DELETE";
  c.target = t;
  c.query = {{"restype", "container"}};
  c.what = "DELETE CONTAINER " + name;
  OMNIO_TRY(perform(std::move(c)));
  return ok_status();
}

}  // namespace omnio::azure

namespace omnio {

Result<std::shared_ptr<ObjectStore>> make_azure_store(const AzureConfig& config) {
  OMNIO_TRY(config.validate());
  OMNIO_ASSIGN_OR_RETURN(azure::Resolved res, azure::resolve(config));
  OMNIO_ASSIGN_OR_RETURN(auto client, http::HttpClient::create(http::http_config_from(
                                          config.http, config.http.ca_bundle)));
  log::debug("az store: endpoint {} ({}), account '{}', credentials from {}",
             res.endpoint.empty() ? "https://<account>.blob.core.windows.net" : res.endpoint,
             res.endpoint_source, res.account, res.credentials_source);
  return std::shared_ptr<ObjectStore>(
      std::make_shared<azure::AzureStore>(config, std::move(res), std::move(client)));
}

AzureStoreStats azure_store_stats(const ObjectStore& store) {
  if (const auto* s = dynamic_cast<const azure::AzureStore*>(&store)) return s->stats();
  return {};
}

Status AzureConfig::validate() const {
  OMNIO_TRY(range_engine.validate());
  OMNIO_TRY(retry.validate());
  if (max_blocks_in_flight == 0) {
    return Error(ErrorCode::kInvalidArgument, "max_blocks_in_flight must be at least 1");
  }
  if (block_size && (*block_size < kAzureMinBlockSize || *block_size > kAzureMaxBlockSize)) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("block_size {} is outside Azure's limits (1 byte .. 4000 MiB)", *block_size));
  }
  if (single_put_threshold > kAzureMaxSinglePutSize) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("single_put_threshold {} exceeds Azure's Put Blob limit (5000 MiB)",
                             single_put_threshold));
  }
  if (list_page_size == 0 || list_page_size > kAzureListPageSize) {
    return Error(ErrorCode::kInvalidArgument, fmt::format("list_page_size {} is outside 1..{}",
                                                          list_page_size, kAzureListPageSize));
  }
  if (http.event_loops == 0)
    return Error(ErrorCode::kInvalidArgument, "http.event_loops must be at least 1");
  return ok_status();
}

}  // namespace omnio
