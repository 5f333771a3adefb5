// gs:// store: requests (token, retries, error mapping), the read path (no metadata GET: the first
// ranged GET learns the size, generation and CRC32C; later ranges are pinned to that generation),
// CRC32C verification of whole-object reads, and stat.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>

#include "backends/gcs/gcs_store_impl.h"
#include "http/content_range.h"
#include "http/encoding.h"
#include "http/ranged_read.h"
#include "http/status.h"
#include "omnio/crc32c.h"
#include "omnio/log.h"
#include "omnio/uri.h"

namespace omnio::gcs {
namespace {

// Buffers handed to libcurl: cache-line aligned.
constexpr std::size_t kBufferAlignment = 64;
// A multi-range read whose object was replaced underneath it starts over from a fresh first
// range, a few times: the caller gets one consistent generation or an error, never a mix.
constexpr int kReadRestartsOnChange = 3;

bool is_2xx(long s) { return s >= 200 && s < 300; }

Bytes view_of(std::shared_ptr<AlignedBuffer> buf, std::size_t n) {
  const std::byte* p = buf->data();
  return Bytes::from_shared(std::move(buf), p, n);
}

std::optional<std::uint32_t> crc_of_response(const http::Response& r) {
  if (r.header("x-goog-stored-content-encoding") == "gzip")
    return std::nullopt;  // hash of stored bytes
  for (const auto& [k, v] : r.headers) {
    if (k != "x-goog-hash") continue;
    if (auto c = crc32c_from_goog_hash(v)) return c;
  }
  return std::nullopt;
}

}  // namespace

// ---- errors
// --------------------------------------------------------------------------------------

Error gcs_error(const http::Response& resp, const std::string& what, const std::string& endpoint) {
  const int status = static_cast<int>(resp.status);
  auto doc = parse_error(resp.body);
  ErrorCode ec = http::error_code_for_status(status);
  if (status == 408) ec = ErrorCode::kUnavailable;      // request timeout: retryable
  if (status == 413) ec = ErrorCode::kInvalidArgument;  // payload too large
  std::string detail;
  if (status == 412) {
    detail =
        "the object changed while it was being read (generation precondition failed); nothing was "
        "returned";
  } else if (status == 429) {
    detail = fmt::format("throttled by the server: {}", doc ? doc->message : "too many requests");
  } else if (doc && !doc->message.empty()) {
    detail = doc->reason.empty() ? doc->message : fmt::format("{}: {}", doc->reason, doc->message);
  } else if (status == 404) {
    detail = "not found";
  } else {
    std::string body = resp.body.substr(0, 200);
    std::replace(body.begin(), body.end(), '\n', ' ');
    detail = fmt::format("HTTP {}{}{}", status, body.empty() ? "" : ": ", body);
  }
  // The JSON API has no request-id header; x-guploader-uploadid identifies the request to Google.
  return http::service_error(
      ec, what, detail,
      {status, doc ? doc->reason : std::string(), std::string(resp.header("x-guploader-uploadid")),
       endpoint, status == 429});
}

bool object_changed(const Error& e) {
  for (const Error* x = &e; x != nullptr; x = x->cause()) {
    if (x->code() == ErrorCode::kDataLoss && x->http_status() == 412) return true;
  }
  return false;
}

// ---- construction and requests ------------------------------------------------------------------

GcsStore::GcsStore(GcsConfig config, Resolved resolved, std::shared_ptr<http::HttpClient> client,
                   std::shared_ptr<http::HttpClient> token_client)
    : cfg_(std::move(config)),
      res_(std::move(resolved)),
      http_(std::move(client)),
      token_http_(std::move(token_client)),
      budget_(http::RetryBudget::for_endpoint(res_.endpoint)),
      engine_(cfg_.range_engine) {}

Result<Target> GcsStore::target(std::string_view uri, bool need_key) const {
  OMNIO_ASSIGN_OR_RETURN(Uri u, Uri::parse(uri));
  if (u.scheme != Scheme::kGcs) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("'{}' is not a gs:// URI (expected gs://bucket/key)", uri));
  }
  if (need_key && u.key.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("'{}' names a bucket, not an object (expected gs://bucket/key)", uri));
  }
  return Target{u.bucket, u.key};
}

std::string GcsStore::uri_of(const std::string& bucket, const std::string& key) {
  return "gs://" + bucket + "/" + key;
}

std::string GcsStore::object_path(const Target& t) {
  return "/storage/v1/b/" + http::percent_encode(t.bucket) + "/o/" + http::percent_encode(t.key);
}

std::size_t GcsStore::upload_chunk() const {
  const std::size_t q = kGcsResumableChunkQuantum;
  return std::max<std::size_t>(q, (cfg_.upload_chunk_size + q - 1) / q * q);
}

Result<http::Request> GcsStore::build(const Call& c) const {
  http::Request r;
  r.method = c.method;
  r.url = c.path.rfind("http", 0) == 0 ? c.path : res_.endpoint + c.path;
  std::string query;
  for (const auto& [k, v] : c.query) {
    query += (query.empty() ? "" : "&") + http::percent_encode(k) + "=" + http::percent_encode(v);
  }
  if (!query.empty()) r.url += (r.url.find('?') == std::string::npos ? "?" : "&") + query;
  r.headers = c.headers;
  if (res_.tokens) {
    auto token = res_.tokens->token();
    if (!token.ok()) return token.error().wrap(c.what);
    r.headers.emplace_back("Authorization", "Bearer " + *token);
  }
  r.body = c.body;
  r.dest = c.dest;
  r.has_dest = c.has_dest;
  r.dest_exact = c.dest_exact;
  r.timeout = c.timeout;
  r.cancel = c.cancel;
  return r;
}

void GcsStore::submit(Call call, http::Completion done) {
  // Raw: every caller waits for its calls, so the store outlives them.
  GcsStore* self = this;
  auto counters = counters_;
  switch (call.kind) {
    case Call::Kind::kMedia:
      ++counters->media_gets;
      break;
    case Call::Kind::kMetadata:
      ++counters->metadata_gets;
      break;
    case Call::Kind::kUpload:
      ++counters->uploads;
      break;
    case Call::Kind::kDelete:
      ++counters->deletes;
      break;
    case Call::Kind::kList:
      ++counters->lists;
      break;
    case Call::Kind::kOther:
      break;
  }
  auto shared = std::make_shared<Call>(std::move(call));
  http::RetryingCall rc;
  rc.what = shared->what;
  rc.idempotent = shared->idempotent;
  rc.cancel = shared->cancel;
  rc.make = [self, shared, counters](int attempt) -> Result<http::Request> {
    ++counters->requests;
    if (attempt > 1) ++counters->retries;
    return self->build(*shared);
  };
  const std::string endpoint = res_.endpoint;
  rc.check = [shared, endpoint](Result<http::Response> r) -> Result<http::Response> {
    if (!r.ok()) return r;
    if (is_2xx(r->status) || (shared->also_ok != 0 && r->status == shared->also_ok)) return r;
    return gcs_error(*r, shared->what, endpoint);
  };
  http::submit_with_retry(http_, cfg_.retry, budget_, std::move(rc), std::move(done));
}

Result<http::Response> GcsStore::perform(Call call) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<http::Response>> out;
  submit(std::move(call), [&](Result<http::Response> r) {
    std::lock_guard g(mu);
    out.emplace(std::move(r));
    cv.notify_one();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return out.has_value(); });
  return std::move(*out);
}

GcsStoreStats GcsStore::stats() const {
  GcsStoreStats s;
  s.requests = counters_->requests;
  s.media_gets = counters_->media_gets;
  s.metadata_gets = counters_->metadata_gets;
  s.uploads = counters_->uploads;
  s.deletes = counters_->deletes;
  s.lists = counters_->lists;
  s.retries = counters_->retries;
  return s;
}

// ---- reads --------------------------------------------------------------------------------------

struct GcsStore::Probe {
  std::uint64_t total = 0;  // object size
  std::uint64_t got = 0;    // bytes that landed in dest
  std::string generation;
  std::optional<std::uint32_t> crc;
};

Result<ObjectResource> GcsStore::get_object_resource(const Target& t, const std::string& what) {
  Call c;
  c.path = object_path(t);
  c.what = what;
  c.kind = Call::Kind::kMetadata;
  OMNIO_ASSIGN_OR_RETURN(http::Response r, perform(std::move(c)));
  auto o = parse_object(r.body);
  if (!o.ok()) return o.error().wrap(what);
  return o;
}

Result<GcsStore::Probe> GcsStore::probe(const Target& t, std::uint64_t offset,
                                        std::span<std::byte> dest,
                                        const CancellationToken& cancel) {
  const std::string uri = uri_of(t.bucket, t.key);
  Call c;
  c.path = object_path(t);
  c.query = {{"alt", "media"}};
  c.headers.emplace_back("Range", http::range_header(offset, dest.size()));
  c.dest = dest;
  c.has_dest = true;
  c.dest_exact = false;
  c.timeout = cfg_.range_engine.range_timeout;
  c.cancel = cancel;
  c.kind = Call::Kind::kMedia;
  c.what = fmt::format("GET {} bytes={}-{}", uri, offset, offset + dest.size() - 1);
  const std::string what = c.what;
  auto r = perform(std::move(c));
  if (!r.ok()) {
    // 416 (the range starts at or past the end), or a body longer than the range from a server
    // that ignores Range past the end (the firebase emulator answers 200 with the whole object):
    // the object's size decides the range rule. Rare path: one metadata GET.
    const bool ask_size = r.error().code() == ErrorCode::kOutOfRange ||
                          (offset > 0 && r.error().code() == ErrorCode::kDataLoss);
    if (!ask_size) return std::move(r).error();
    OMNIO_ASSIGN_OR_RETURN(ObjectResource o, get_object_resource(t, "GET metadata " + uri));
    if (offset > o.size) {
      return Error(ErrorCode::kOutOfRange,
                   fmt::format("{}: offset {} is beyond the end of the object ({} bytes)", uri,
                               offset, o.size));
    }
    if (offset < o.size) return std::move(r).error();  // the server refused a valid range
    return Probe{o.size, 0, o.generation, std::nullopt};
  }
  Probe p;
  p.generation = std::string(r->header("x-goog-generation"));
  p.got = r->body_bytes;
  p.crc = crc_of_response(*r);
  if (r->status == 206) {
    std::uint64_t first = 0, last = 0;
    std::int64_t total = -1;
    if (!http::parse_content_range(r->header("content-range"), &first, &last, &total) ||
        total < 0) {
      return Error(ErrorCode::kDataLoss, fmt::format("{}: unusable Content-Range '{}'", what,
                                                     r->header("content-range")));
    }
    if (first != offset || last - first + 1 != r->body_bytes) {
      return Error(ErrorCode::kDataLoss,
                   fmt::format("{}: server sent bytes {}-{} ({} body bytes) for the range asked",
                               what, first, last, r->body_bytes));
    }
    p.total = static_cast<std::uint64_t>(total);
    return p;
  }
  // 200: the whole object (an empty object, or a server that ignores Range), and it fit in dest.
  std::uint64_t len = r->body_bytes;
  if (std::string_view cl = r->header("content-length"); !cl.empty()) {
    std::from_chars(cl.data(), cl.data() + cl.size(), len);
  }
  if (len != r->body_bytes) {
    return Error(ErrorCode::kDataLoss,
                 fmt::format("{}: {} of {} body bytes arrived", what, r->body_bytes, len));
  }
  p.total = len;
  if (offset > len) {
    return Error(
        ErrorCode::kOutOfRange,
        fmt::format("{}: offset {} is beyond the end of the object ({} bytes)", uri, offset, len));
  }
  if (offset > 0) {  // keep only the range asked for, at the front of dest
    p.got = len - offset;
    std::memmove(dest.data(), dest.data() + offset, static_cast<std::size_t>(p.got));
  }
  return p;
}

RangeReadFn GcsStore::range_reader(const Target& t, std::uint64_t base, std::string generation) {
  GcsStore* self = this;  // the RangeEngine waits for every range before returning
  return [self, t, base, generation](std::uint64_t off, std::span<std::byte> dest,
                                     const CancellationToken& cancel,
                                     std::function<void(Status)> done) {
    const std::uint64_t at = base + off;
    Call c;
    c.path = object_path(t);
    c.query = {{"alt", "media"}};
    if (!generation.empty()) {
      // Pinned: a replaced object fails the range (412, or 404 once the old generation is gone).
      c.query.emplace_back("generation", generation);
      c.query.emplace_back("ifGenerationMatch", generation);
    }
    c.headers.emplace_back("Range", http::range_header(at, dest.size()));
    c.dest = dest;
    c.has_dest = true;
    c.timeout = self->cfg_.range_engine.range_timeout;
    c.cancel = cancel;
    c.kind = Call::Kind::kMedia;
    c.what = fmt::format("GET {} bytes={}-{}", uri_of(t.bucket, t.key), at, at + dest.size() - 1);
    self->submit(std::move(c), [at, n = dest.size(), generation,
                                done = std::move(done)](Result<http::Response> r) {
      if (!r.ok()) {
        if (r.error().code() == ErrorCode::kNotFound && !generation.empty()) {
          Error e(ErrorCode::kDataLoss,
                  fmt::format("generation {} is gone: the object changed while it was being read",
                              generation));
          return done(std::move(e.with_http_status(412).with_cause(std::move(r).error())));
        }
        return done(std::move(r).error());
      }
      std::uint64_t first = 0, last = 0;
      std::int64_t total = -1;
      if (r->status != 206 ||
          !http::parse_content_range(r->header("content-range"), &first, &last, &total) ||
          first != at || last - first + 1 != n) {
        return done(Error(
            ErrorCode::kDataLoss,
            fmt::format("range at {} ({} bytes): server answered HTTP {} with Content-Range '{}'",
                        at, n, r->status, r->header("content-range"))));
      }
      if (std::string_view g = r->header("x-goog-generation");
          !generation.empty() && !g.empty() && g != generation) {
        // A server that ignores the pin (emulators ignore preconditions) must still not mix
        // versions.
        return done(
            Error(ErrorCode::kDataLoss,
                  fmt::format("range at {}: generation {} answered for {}: the object changed", at,
                              g, generation))
                .with_http_status(412));
      }
      done(ok_status());
    });
  };
}

Status GcsStore::verify_crc(const Target& t, const Probe& p, std::uint32_t crc) const {
  if (!cfg_.verify_crc32c || !p.crc || *p.crc == crc) return ok_status();
  return Error(
      ErrorCode::kDataLoss,
      fmt::format(
          "GET {}: CRC32C mismatch: the server's x-goog-hash says {:08x}, the {} bytes read "
          "have {:08x}",
          uri_of(t.bucket, t.key), *p.crc, p.total, crc));
}

Result<Bytes> GcsStore::read_from(const Target& t, std::uint64_t offset,
                                  std::optional<std::uint64_t> length, const ReadOptions& opts,
                                  const BufferSource* buffer_for) {
  const std::string uri = uri_of(t.bucket, t.key);
  const std::uint64_t first = std::min<std::uint64_t>(
      buffer_for != nullptr ? kBufferSourceProbeSize : chunk(), length.value_or(UINT64_MAX));
  if (first == 0) {  // length 0: only the range rule to check
    OMNIO_ASSIGN_OR_RETURN(ObjectResource o, get_object_resource(t, "GET metadata " + uri));
    if (offset > o.size) {
      return Error(ErrorCode::kOutOfRange,
                   fmt::format("{}: offset {} is beyond the end of the object ({} bytes)", uri,
                               offset, o.size));
    }
    return Bytes();
  }
  OMNIO_ASSIGN_OR_RETURN(AlignedBuffer head_buf,
                         AlignedBuffer::allocate(first, kBufferAlignment, opts.cancel));
  auto buf = std::make_shared<AlignedBuffer>(std::move(head_buf));
  OMNIO_ASSIGN_OR_RETURN(Probe p, probe(t, offset, buf->span(), opts.cancel));
  const std::uint64_t end = length ? std::min(p.total, offset + *length) : p.total;
  const bool whole = offset == 0 && end == p.total;
  if (offset + p.got >= end) {
    const std::size_t n = static_cast<std::size_t>(end - offset);
    if (whole) OMNIO_TRY(verify_crc(t, p, crc32c(std::span<const std::byte>(buf->data(), n))));
    // A small object in a large probe buffer: keep only what it needs.
    if (n < first / 2) return Bytes::copy_of(std::span<const std::byte>(buf->data(), n));
    return view_of(std::move(buf), n);
  }
  const auto n = static_cast<std::size_t>(end - offset);
  OMNIO_ASSIGN_OR_RETURN(std::shared_ptr<AlignedBuffer> out,
                         http::whole_object_buffer(buffer_for, n, buf, p.got, opts.cancel));
  auto dest = std::span(out->data(), n).subspan(p.got);
  OMNIO_TRY(engine_.download_into(dest.size(), dest, range_reader(t, offset + p.got, p.generation),
                                  opts.cancel));
  if (whole) OMNIO_TRY(verify_crc(t, p, crc32c(std::span<const std::byte>(out->data(), n))));
  out->resize(n);
  return view_of(std::move(out), n);
}

Result<Bytes> GcsStore::get(std::string_view uri, const ReadOptions& opts) {
  return get_range(uri, 0, std::nullopt, opts);
}

Result<Bytes> GcsStore::read_restarting(std::string_view uri, std::uint64_t offset,
                                        std::optional<std::uint64_t> length,
                                        const ReadOptions& opts, const BufferSource* buffer_for) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  for (int i = 1;; ++i) {
    auto r = read_from(t, offset, length, opts, buffer_for);
    if (r.ok() || i == kReadRestartsOnChange || !object_changed(r.error())) return r;
    log::debug("{}: changed during a ranged read; reading again", uri);
  }
}

Result<Bytes> GcsStore::get_range(std::string_view uri, std::uint64_t offset,
                                  std::optional<std::uint64_t> length, const ReadOptions& opts) {
  return read_restarting(uri, offset, length, opts, nullptr);
}

Result<Bytes> GcsStore::get_with_buffer(std::string_view uri, const BufferSource& buffer_for,
                                        const ReadOptions& opts) {
  return read_restarting(uri, 0, std::nullopt, opts, &buffer_for);
}

Result<std::uint64_t> GcsStore::get_into(std::string_view uri, std::uint64_t offset,
                                         std::span<std::byte> dest, const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  if (dest.empty()) {
    OMNIO_TRY(read_from(t, offset, 0, opts));
    return std::uint64_t{0};
  }
  auto head_part = dest.first(std::min<std::size_t>(dest.size(), chunk()));
  for (int i = 1;; ++i) {
    OMNIO_ASSIGN_OR_RETURN(Probe p, probe(t, offset, head_part, opts.cancel));
    const std::uint64_t end = std::min<std::uint64_t>(p.total, offset + dest.size());
    const auto n = static_cast<std::size_t>(end - offset);
    const bool whole = offset == 0 && end == p.total;
    Status st;
    if (offset + p.got < end) {
      auto rest = dest.subspan(p.got, static_cast<std::size_t>(end - offset - p.got));
      auto r = engine_.download_into(rest.size(), rest,
                                     range_reader(t, offset + p.got, p.generation), opts.cancel);
      if (!r.ok()) st = std::move(r).error();
    }
    if (st.ok() && whole) st = verify_crc(t, p, crc32c(dest.first(n)));
    if (st.ok()) return static_cast<std::uint64_t>(n);
    if (i == kReadRestartsOnChange || !object_changed(st.error())) return std::move(st).error();
  }
}

Status GcsStore::get_to_sink(std::string_view uri, const ChunkSink& sink, const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  OMNIO_ASSIGN_OR_RETURN(AlignedBuffer first,
                         AlignedBuffer::allocate(chunk(), kBufferAlignment, opts.cancel));
  auto buf = std::make_shared<AlignedBuffer>(std::move(first));
  OMNIO_ASSIGN_OR_RETURN(Probe p, probe(t, 0, buf->span(), opts.cancel));
  const std::uint64_t got = p.got;
  // The sink sees the chunks in order: the CRC32C of the whole object accumulates on the way.
  std::uint32_t crc =
      crc32c(std::span<const std::byte>(buf->data(), static_cast<std::size_t>(got)));
  OMNIO_TRY(sink(0, view_of(std::move(buf), static_cast<std::size_t>(got))));
  if (got < p.total) {
    auto alloc = [](std::size_t n, MemoryReservation r) {
      return AlignedBuffer::allocate(n, kBufferAlignment, std::move(r));
    };
    auto shifted = [&sink, &crc, got](std::uint64_t off, Bytes chunk) {
      crc = crc32c_update(crc, chunk.span());
      return sink(got + off, std::move(chunk));
    };
    OMNIO_TRY(engine_.download_to_sink(p.total - got, range_reader(t, got, p.generation), shifted,
                                       alloc, opts.cancel));
  }
  return verify_crc(t, p, crc);
}

Result<ObjectMetadata> GcsStore::stat(std::string_view uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  OMNIO_ASSIGN_OR_RETURN(ObjectResource o,
                         get_object_resource(t, "GET metadata " + uri_of(t.bucket, t.key)));
  return o.meta;
}

}  // namespace omnio::gcs

namespace omnio {

Result<std::shared_ptr<ObjectStore>> make_gcs_store(const GcsConfig& config) {
  OMNIO_TRY(config.validate());
  http::HttpConfig hc;
  hc.event_loops = config.http.event_loops;
  hc.connect_timeout = config.http.connect_timeout;
  hc.stall_timeout = config.http.stall_timeout;
  hc.max_connecting = config.http.max_connecting;
  hc.http2 = config.http.http2;
  hc.verify_tls = config.http.verify_tls;
  hc.ca_bundle = config.http.ca_bundle;
  OMNIO_ASSIGN_OR_RETURN(auto client, http::HttpClient::create(hc));
  hc.event_loops = 1;  // tokens: a few requests an hour
  OMNIO_ASSIGN_OR_RETURN(auto token_client, http::HttpClient::create(hc));
  OMNIO_ASSIGN_OR_RETURN(gcs::Resolved res, gcs::resolve(config, token_client));
  log::debug("gs store: endpoint {} ({}), project '{}', credentials: {}", res.endpoint,
             res.endpoint_source, res.project, res.auth_source);
  return std::shared_ptr<ObjectStore>(std::make_shared<gcs::GcsStore>(
      config, std::move(res), std::move(client), std::move(token_client)));
}

GcsStoreStats gcs_store_stats(const ObjectStore& store) {
  if (const auto* s = dynamic_cast<const gcs::GcsStore*>(&store)) return s->stats();
  return {};
}

Status GcsConfig::validate() const {
  OMNIO_TRY(range_engine.validate());
  OMNIO_TRY(retry.validate());
  if (http.event_loops == 0)
    return Error(ErrorCode::kInvalidArgument, "http.event_loops must be at least 1");
  if (upload_chunk_size == 0)
    return Error(ErrorCode::kInvalidArgument, "upload_chunk_size must be at least 1");
  if (delete_concurrency == 0)
    return Error(ErrorCode::kInvalidArgument, "delete_concurrency must be at least 1");
  if (metadata_timeout.count() <= 0)
    return Error(ErrorCode::kInvalidArgument, "metadata_timeout must be positive");
  return ok_status();
}

}  // namespace omnio
