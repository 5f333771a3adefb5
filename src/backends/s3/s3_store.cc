// s3:// store: request signing, error mapping, the read path (no HEAD: the first ranged GET learns
// the size, later ranges carry If-Match), stat, listing, deletes, buckets and server-side copy.
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/md5.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>

#include "backends/s3/s3_store_impl.h"
#include "backends/s3/s3_xml.h"
#include "backends/s3/sigv4.h"
#include "core/failures.h"
#include "http/ranged_read.h"
#include "http/status.h"
#include "omnio/log.h"
#include "omnio/uri.h"

namespace omnio::s3 {
namespace {

// Lower-case hex SHA-256 of an empty body.
constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string amz_date_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string hash_of(std::span<const std::byte> body) {
  if (body.empty()) return kEmptySha256;
  return sha256_hex(std::string_view(reinterpret_cast<const char*>(body.data()), body.size()));
}

std::string base64_md5(std::string_view data) {
  unsigned char md[16];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  unsigned char out[32];
  int n = EVP_EncodeBlock(out, md, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
}

bool is_2xx(long s) { return s >= 200 && s < 300; }

}  // namespace

// ---- errors and dates ---------------------------------------------------------------------------

Error s3_error(const http::Response& resp, const std::string& what, const std::string& endpoint) {
  const int status = static_cast<int>(resp.status);
  auto doc = parse_error(resp.body);
  std::string code = doc ? doc->code : std::string();
  std::string request_id = doc && !doc->request_id.empty()
                               ? doc->request_id
                               : std::string(resp.header("x-amz-request-id"));
  ErrorCode ec = http::error_code_for_status(status);
  if (status == 400 && code == "RequestTimeout") {
    ec = ErrorCode::kUnavailable;
  } else if (status == 400 && (code == "XAmzContentSHA256Mismatch" || code == "BadDigest")) {
    ec = ErrorCode::kDataLoss;
  } else if (status == 403 &&
             (code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
              code == "ExpiredToken" || code == "InvalidToken" || code == "TokenRefreshRequired")) {
    ec = ErrorCode::kUnauthenticated;
  } else if (status == 409 && code == "BucketNotEmpty") {
    ec = ErrorCode::kInvalidArgument;
  } else if (status == 503 && (code == "SlowDown" || code.empty())) {
    ec = ErrorCode::kResourceExhausted;
  }
  std::string detail;
  if (ec == ErrorCode::kDataLoss && status == 400) {
    detail = fmt::format(
        "{}: the request body arrived corrupted (the server's digest of it differs); "
        "nothing was stored",
        code);
  } else if (status == 412) {
    detail =
        "the object changed while it was being read (If-Match precondition failed); "
        "nothing was returned";
  } else if (status == 503 && ec == ErrorCode::kResourceExhausted) {
    detail = fmt::format("throttled by the server ({}): {}", code.empty() ? "503" : code,
                         doc ? doc->message : "slow down");
  } else if (doc) {
    // Some servers (Ceph radosgw) send empty <Message>s: say what the common codes mean.
    detail =
        fmt::format("{}: {}", code, doc->message.empty() ? explain_s3_code(code) : doc->message);
  } else if (status == 404) {
    detail = "not found";
  } else {
    detail = "no error document";
  }
  // code is empty for HEAD: no body, no document.
  return http::service_error(ec, what, detail,
                             {status, code, std::move(request_id), endpoint,
                              ec == ErrorCode::kResourceExhausted && status == 503});
}

std::string explain_s3_code(std::string_view code) {
  static const std::map<std::string_view, std::string_view> kText = {
      {"InvalidBucketName",
       "bucket names are 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a "
       "letter or digit"},
      {"NoSuchBucket", "the bucket does not exist"},
      {"NoSuchKey", "the object does not exist"},
      {"BucketNotEmpty", "the bucket still holds objects (delete them first: omnio rm -r)"},
      {"BucketAlreadyExists", "the bucket name is taken by another account"},
      {"AccessDenied", "the credentials are not allowed to do this"},
      {"SignatureDoesNotMatch",
       "the secret key does not match the access key id (or the clock is off)"},
      {"InvalidAccessKeyId", "the server does not know this access key id"},
      {"EntityTooSmall", "a part other than the last is below the 5 MiB minimum"},
      {"InvalidPart", "a part of the multipart upload is missing or its ETag differs"},
      {"NoSuchUpload", "the multipart upload does not exist (completed or aborted)"},
      {"QuotaExceeded", "the account or bucket quota is exhausted"},
  };
  auto it = kText.find(code);
  return it == kText.end() ? std::string("(the server sent no message)") : std::string(it->second);
}

// ---- construction and requests ------------------------------------------------------------------

S3Store::S3Store(S3Config config, Resolved resolved, std::shared_ptr<http::HttpClient> client)
    : cfg_(std::move(config)),
      res_(std::move(resolved)),
      http_(std::move(client)),
      budget_(http::RetryBudget::for_endpoint(res_.endpoint)),
      reader_(cfg_.range_engine) {}

Result<Target> S3Store::target(std::string_view uri, bool need_key) const {
  OMNIO_ASSIGN_OR_RETURN(Uri u, Uri::parse(uri));
  if (u.scheme != Scheme::kS3) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("'{}' is not an s3:// URI (expected s3://bucket/key)", uri));
  }
  if (need_key && u.key.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("'{}' names a bucket, not an object (expected s3://bucket/key)", uri));
  }
  return Target{u.bucket, u.key};
}

std::string S3Store::uri_of(const std::string& bucket, const std::string& key) const {
  return "s3://" + bucket + "/" + key;
}

Result<http::Request> S3Store::sign(const Call& c, const std::string& payload_hash) const {
  if (res_.credentials_source == "none") {
    return Error(ErrorCode::kUnauthenticated,
                 fmt::format("{}: {}", c.what, res_.missing_credentials_hint));
  }
  const bool path_style =
      cfg_.path_style.value_or(res_.custom_endpoint || c.bucket.find('.') != std::string::npos);
  std::string host = res_.endpoint_host;
  std::string path;
  if (c.bucket.empty()) {
    path = "/";
  } else if (path_style) {
    path = "/" + uri_encode(c.bucket, true);
    if (!c.key.empty()) path += "/" + uri_encode(c.key, false);
  } else {
    host = c.bucket + "." + host;
    path = "/" + uri_encode(c.key, false);
  }
  SigningInput in;
  in.method = c.method;
  in.path = path;
  in.query = c.query;
  in.payload_hash = payload_hash;
  in.amz_date = amz_date_now();
  in.region = res_.region;
  in.headers = c.headers;
  in.headers.emplace_back("host", host);
  in.headers.emplace_back("x-amz-date", in.amz_date);
  in.headers.emplace_back("x-amz-content-sha256", payload_hash);
  if (!res_.credentials.session_token.empty()) {
    in.headers.emplace_back("x-amz-security-token", res_.credentials.session_token);
  }
  Signature sig = sign_v4(in, res_.credentials);

  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& [k, v] : c.query) q.emplace_back(uri_encode(k, true), uri_encode(v, true));
  std::sort(q.begin(), q.end());
  std::string query;
  for (const auto& [k, v] : q) query += (query.empty() ? "?" : "&") + k + "=" + v;

  http::Request r;
  c.fill(r);
  r.url = res_.endpoint_scheme + "://" + host + path + query;
  r.headers = std::move(in.headers);
  r.headers.emplace_back("Authorization", sig.authorization);
  return r;
}

void S3Store::submit(Call call, http::Completion done) {
  // Raw: every caller waits for its calls, so the store outlives them; holding a shared_ptr could
  // make an HTTP loop thread destroy the store (and join itself).
  S3Store* self = this;
  const std::string payload_hash = cfg_.unsigned_payload && !call.body.empty()
                                       ? std::string("UNSIGNED-PAYLOAD")
                                       : hash_of(call.body);
  http::RetryingCall rc;
  rc.what = call.what;
  rc.idempotent = call.idempotent;
  rc.cancel = call.cancel;
  auto counters = counters_;
  rc.make = [self, call = std::move(call), payload_hash, counters](int attempt) {
    counters->requests.fetch_add(1, std::memory_order_relaxed);
    if (attempt > 1) counters->retries.fetch_add(1, std::memory_order_relaxed);
    const std::string& m = call.method;
    auto& c = m == "GET"
                  ? (call.query.empty() || call.key.size() ? counters->gets : counters->lists)
              : m == "HEAD" ? counters->heads
              : m == "PUT"  ? counters->puts
              : m == "POST" ? counters->posts
                            : counters->deletes;
    c.fetch_add(1, std::memory_order_relaxed);
    return self->sign(call, payload_hash);
  };
  rc.check = [what = rc.what,
              endpoint = res_.endpoint](Result<http::Response> r) -> Result<http::Response> {
    if (!r.ok() || is_2xx(r->status)) return r;
    return s3_error(*r, what, endpoint);
  };
  http::submit_with_retry(http_, cfg_.retry, budget_, std::move(rc), std::move(done));
}

Result<http::Response> S3Store::perform(Call call) {
  return http::wait_for([&](http::Completion done) { submit(std::move(call), std::move(done)); });
}

S3StoreStats S3Store::stats() const {
  S3StoreStats s;
  s.requests = counters_->requests.load();
  s.gets = counters_->gets.load();
  s.heads = counters_->heads.load();
  s.puts = counters_->puts.load();
  s.posts = counters_->posts.load();
  s.deletes = counters_->deletes.load();
  s.lists = counters_->lists.load();
  s.retries = counters_->retries.load();
  return s;
}

// ---- reads --------------------------------------------------------------------------------------

Result<ObjectMetadata> S3Store::head(const Target& t, const std::string& what) {
  OMNIO_ASSIGN_OR_RETURN(auto m, head_with_checksum(t, what, false));
  return std::move(m.first);
}

Result<std::pair<ObjectMetadata, std::string>> S3Store::head_with_checksum(const Target& t,
                                                                           const std::string& what,
                                                                           bool checksum_mode) {
  Call c;
  c.method = "HEAD";
  c.bucket = t.bucket;
  c.key = t.key;
  if (checksum_mode) c.headers.emplace_back("x-amz-checksum-mode", "ENABLED");
  c.what = what;
  OMNIO_ASSIGN_OR_RETURN(http::Response r, perform(std::move(c)));
  ObjectMetadata m;
  std::string_view len = r.header("content-length");
  std::from_chars(len.data(), len.data() + len.size(), m.size);
  m.etag = std::string(r.header("etag"));
  m.last_modified = to_rfc3339(r.header("last-modified"));
  m.content_type = std::string(r.header("content-type"));
  std::string_view sc = r.header("x-amz-storage-class");
  m.storage_class = sc.empty() ? "STANDARD" : std::string(sc);
  for (const auto& [k, v] : r.headers) {
    if (k.rfind("x-amz-meta-", 0) == 0) m.metadata[k.substr(11)] = v;
  }
  return std::pair(std::move(m), std::string(r.header("x-amz-checksum-crc32c")));
}

http::RangedSource S3Store::source(const Target& t) {
  S3Store* self = this;  // every read waits for its requests before returning
  http::RangedSource src;
  src.uri = uri_of(t.bucket, t.key);
  src.send = [self, t, uri = src.uri](const http::RangeRequest& r, const CancellationToken& cancel,
                                      http::Completion done) {
    Call c;
    c.bucket = t.bucket;
    c.key = t.key;
    r.apply(c, "Range", uri);
    c.timeout = self->cfg_.range_engine.range_timeout;
    c.cancel = cancel;
    self->submit(std::move(c), std::move(done));
  };
  src.head = [self, t, uri = src.uri] { return self->head(t, "HEAD " + uri); };
  return src;
}

Result<Bytes> S3Store::get(std::string_view uri, const ReadOptions& opts) {
  return get_range(uri, 0, std::nullopt, opts);
}

Result<Bytes> S3Store::get_range(std::string_view uri, std::uint64_t offset,
                                 std::optional<std::uint64_t> length, const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  return reader_.get_range(source(t), offset, length, opts);
}

Result<Bytes> S3Store::get_with_buffer(std::string_view uri, const BufferSource& buffer_for,
                                       const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  return reader_.get_with_buffer(source(t), buffer_for, opts);
}

Result<std::uint64_t> S3Store::get_into(std::string_view uri, std::uint64_t offset,
                                        std::span<std::byte> dest, const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  return reader_.get_into(source(t), offset, dest, opts);
}

Status S3Store::get_to_sink(std::string_view uri, const ChunkSink& sink, const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  return reader_.get_to_sink(source(t), sink, opts);
}

Result<std::uint64_t> S3Store::get_positional(std::string_view uri, const PositionalWriter& writer,
                                              const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  return reader_.get_positional(source(t), writer, opts);
}

// ---- metadata and namespace
// ----------------------------------------------------------------------

Result<ObjectMetadata> S3Store::stat(std::string_view uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  return head(t, "HEAD " + uri_of(t.bucket, t.key));
}

Status S3Store::list_stream(std::string_view prefix_uri, bool recursive, const ListSink& sink,
                            const CancellationToken& cancel) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(prefix_uri, false));
  std::string token;
  std::vector<ListEntry> page_entries;  // one page: S3 returns keys and prefixes in key order
  do {
    Call c;
    c.bucket = t.bucket;
    c.query = {{"list-type", "2"},
               {"prefix", t.key},
               {"encoding-type", "url"},
               {"max-keys", std::to_string(cfg_.list_page_size)}};
    if (!recursive) c.query.emplace_back("delimiter", "/");
    if (!token.empty()) c.query.emplace_back("continuation-token", token);
    c.what = fmt::format("LIST {}", prefix_uri);
    c.cancel = cancel;
    OMNIO_ASSIGN_OR_RETURN(http::Response r, perform(std::move(c)));
    auto page = parse_list_v2(r.body);
    if (!page.ok()) return page.error().wrap(fmt::format("LIST {}", prefix_uri));
    page_entries.clear();
    for (auto& o : page->objects) page_entries.push_back({uri_of(t.bucket, o.key), o.size, false});
    for (auto& p : page->common_prefixes) page_entries.push_back({uri_of(t.bucket, p), 0, true});
    // Keys and common prefixes come as two sorted lists per page; merged, pages follow each other.
    std::sort(page_entries.begin(), page_entries.end(),
              [](const ListEntry& a, const ListEntry& b) { return a.uri < b.uri; });
    for (auto& e : page_entries) {
      OMNIO_TRY(check_listing_cancel(prefix_uri, cancel));
      OMNIO_TRY(sink(std::move(e)));
    }
    token = page->truncated ? page->next_continuation_token : std::string();
  } while (!token.empty());
  return ok_status();
}

Result<std::vector<ListEntry>> S3Store::list_entries(std::string_view prefix_uri, bool recursive) {
  return collect_list_stream(prefix_uri, recursive);
}

Result<std::vector<std::string>> S3Store::list_containers(std::string_view /*root_uri*/) {
  Call c;
  c.what = "LIST s3:// (buckets)";
  OMNIO_ASSIGN_OR_RETURN(http::Response r, perform(std::move(c)));
  auto names = parse_list_buckets(r.body);
  if (!names.ok()) return names.error().wrap("LIST s3://");
  std::vector<std::string> out;
  for (auto& n : *names) out.push_back("s3://" + n);
  std::sort(out.begin(), out.end());
  return out;
}

Status S3Store::delete_object(std::string_view uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  const std::string u = uri_of(t.bucket, t.key);
  // S3 answers 204 for missing keys; omnio's contract says kNotFound, so look first.
  OMNIO_TRY(head(t, "DELETE " + u));
  Call c;
  c.method = "DELETE";
  c.bucket = t.bucket;
  c.key = t.key;
  c.what = "DELETE " + u;
  OMNIO_TRY(perform(std::move(c)));
  return ok_status();
}

BatchReport S3Store::delete_keys(const std::string& bucket, const std::vector<std::string>& keys,
                                 const CancellationToken& cancel) {
  const std::size_t batches = (keys.size() + kS3MaxDeleteBatch - 1) / kS3MaxDeleteBatch;
  std::mutex mu;
  std::condition_variable cv;
  std::size_t inflight = 0;
  BatchReport report;
  std::vector<std::string> bodies(batches);
  for (std::size_t b = 0; b < batches; ++b) {
    std::vector<std::string> batch(
        keys.begin() + static_cast<std::ptrdiff_t>(b * kS3MaxDeleteBatch),
        keys.begin() +
            static_cast<std::ptrdiff_t>(std::min(keys.size(), (b + 1) * kS3MaxDeleteBatch)));
    if (cancel.is_cancelled()) {
      std::lock_guard g(mu);
      report.not_started += batch.size();
      continue;
    }
    bodies[b] = build_delete_request(batch);
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return inflight < kDefaultS3DeleteConcurrency; });
      ++inflight;
    }
    Call c;
    c.method = "POST";
    c.bucket = bucket;
    c.query = {{"delete", ""}};
    c.body = std::as_bytes(std::span<const char>(bodies[b].data(), bodies[b].size()));
    c.headers = {{"Content-Type", "application/xml"}, {"Content-MD5", base64_md5(bodies[b])}};
    c.what = fmt::format("DELETE s3://{}/ (batch {} of {}, {} keys)", bucket, b + 1, batches,
                         batch.size());
    submit(std::move(c), [&, batch = std::move(batch)](Result<http::Response> r) {
      std::vector<std::pair<std::string, Error>> bad;
      std::size_t ok = 0;
      if (!r.ok()) {
        for (const auto& k : batch) bad.emplace_back(uri_of(bucket, k), r.error());
      } else if (auto res = parse_delete_result(r->body); !res.ok()) {
        for (const auto& k : batch) bad.emplace_back(uri_of(bucket, k), res.error());
      } else {
        ok = res->deleted.size();
        for (const auto& e : res->errors) {
          const ErrorCode code =
              e.code == "AccessDenied" ? ErrorCode::kPermissionDenied : ErrorCode::kUnavailable;
          bad.emplace_back(uri_of(bucket, e.key),
                           Error(code, fmt::format("{}: {}", e.code, e.message)));
        }
        if (res->deleted.size() + res->errors.size() != batch.size()) {
          bad.emplace_back(
              fmt::format("s3://{}/ (batch of {} keys)", bucket, batch.size()),
              Error(ErrorCode::kDataLoss, fmt::format("server reported {} deleted and {} errors",
                                                      res->deleted.size(), res->errors.size())));
        }
      }
      std::lock_guard g(mu);
      report.succeeded += ok;
      for (auto& x : bad) report.failures.push_back(std::move(x));
      --inflight;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return inflight == 0; });
  return report;
}

BatchReport S3Store::delete_objects(const std::vector<std::string>& uris,
                                    const CancellationToken& cancel) {
  // One DeleteObjects stream per bucket, in the order the buckets first appear.
  std::vector<std::pair<std::string, std::vector<std::string>>> by_bucket;
  BatchReport report;
  for (const auto& u : uris) {
    auto t = target(u, true);
    if (!t.ok()) {
      report.failures.emplace_back(u, std::move(t).error());
      continue;
    }
    auto it = std::find_if(by_bucket.begin(), by_bucket.end(),
                           [&](const auto& b) { return b.first == t->bucket; });
    if (it == by_bucket.end()) it = by_bucket.insert(by_bucket.end(), {t->bucket, {}});
    it->second.push_back(std::move(t->key));
  }
  for (const auto& [bucket, keys] : by_bucket) report.merge(delete_keys(bucket, keys, cancel));
  return report;
}

Result<std::uint64_t> S3Store::delete_prefix(std::string_view prefix_uri) {
  OMNIO_ASSIGN_OR_RETURN(BatchReport r, delete_prefix_report(prefix_uri));
  if (!r.failures.empty()) {
    std::vector<std::string> failed;
    for (const auto& [uri, e] : r.failures)
      failed.push_back(fmt::format("{} ({})", uri, e.to_string()));
    const std::string names = name_failures(failed);
    return Error(
        ErrorCode::kUnavailable,
        fmt::format("delete_prefix {}: {} of {} deletes failed ({} deleted): {}", prefix_uri,
                    r.failures.size(), r.failures.size() + r.succeeded, r.succeeded, names));
  }
  return r.succeeded;
}

Status S3Store::create_container(std::string_view container_uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(container_uri, false));
  if (!t.key.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("'{}' is not a bucket URI (expected s3://bucket)", container_uri));
  }
  std::string body = build_create_bucket(res_.region);
  Call c;
  c.method = "PUT";
  c.bucket = t.bucket;
  c.body = std::as_bytes(std::span<const char>(body.data(), body.size()));
  c.what = "CREATE BUCKET s3://" + t.bucket;
  auto r = perform(std::move(c));
  if (!r.ok()) {
    if (r.error().http_status() == 409 &&
        r.error().message().find("BucketAlreadyOwnedByYou") != std::string::npos) {
      return ok_status();
    }
    return std::move(r).error();
  }
  return ok_status();
}

Status S3Store::delete_container(std::string_view container_uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(container_uri, false));
  if (!t.key.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("'{}' is not a bucket URI (expected s3://bucket)", container_uri));
  }
  Call c;
  c.method = "DELETE";
  c.bucket = t.bucket;
  c.what = "DELETE BUCKET s3://" + t.bucket;
  OMNIO_TRY(perform(std::move(c)));
  return ok_status();
}

}  // namespace omnio::s3

namespace omnio {

Result<std::shared_ptr<ObjectStore>> make_s3_store(const S3Config& config) {
  OMNIO_TRY(config.validate());
  OMNIO_ASSIGN_OR_RETURN(s3::Resolved res, s3::resolve(config));
  OMNIO_ASSIGN_OR_RETURN(
      auto client, http::HttpClient::create(http::http_config_from(config.http, res.ca_bundle)));
  log::debug("s3 store: endpoint {} ({}), region {} ({}), credentials from {}", res.endpoint,
             res.endpoint_source, res.region, res.region_source, res.credentials_source);
  return std::shared_ptr<ObjectStore>(
      std::make_shared<s3::S3Store>(config, std::move(res), std::move(client)));
}

S3StoreStats s3_store_stats(const ObjectStore& store) {
  if (const auto* s = dynamic_cast<const s3::S3Store*>(&store)) return s->stats();
  return {};
}

Status S3Config::validate() const {
  OMNIO_TRY(range_engine.validate());
  OMNIO_TRY(retry.validate());
  if (max_parts_in_flight == 0) {
    return Error(ErrorCode::kInvalidArgument, "max_parts_in_flight must be at least 1");
  }
  if (part_size && (*part_size < kS3MinPartSize || *part_size > kS3MaxPartSize)) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("part_size {} is outside S3's limits (5 MiB .. 5 GiB)", *part_size));
  }
  if (list_page_size == 0 || list_page_size > kS3ListPageSize) {
    return Error(ErrorCode::kInvalidArgument, fmt::format("list_page_size {} is outside 1..{}",
                                                          list_page_size, kS3ListPageSize));
  }
  if (http.event_loops == 0)
    return Error(ErrorCode::kInvalidArgument, "http.event_loops must be at least 1");
  return ok_status();
}

}  // namespace omnio
