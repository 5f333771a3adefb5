// gs:// writes: one-request uploads (uploadType=media, or multipart with metadata/content type),
// resumable uploads in chunks of a multiple of 256 KiB (one chunk in flight while the next fills:
// peak memory ~2 x chunk), resumed from the committed offset after a failed chunk, and cancelled
// (the session deleted) on error or cancel: a partial object never becomes visible.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <random>
#include <thread>

#include "backends/gcs/gcs_store_impl.h"
#include "core/stream_writer.h"
#include "http/encoding.h"
#include "omnio/log.h"

namespace omnio::gcs {
namespace {

constexpr std::size_t kBufferAlignment = 64;

std::string upload_path(const Target& t) {
  return "/upload/storage/v1/b/" + http::percent_encode(t.bucket) + "/o";
}

std::span<const std::byte> as_span(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// The Range header of a 308 ("bytes=0-N"): bytes committed so far (N + 1), 0 when absent.
std::uint64_t committed_from(const http::Response& r) {
  std::string_view v = r.header("range");
  auto dash = v.find('-');
  if (v.substr(0, 6) != "bytes=" || dash == std::string_view::npos) return 0;
  std::uint64_t last = 0;
  auto s = v.substr(dash + 1);
  if (std::from_chars(s.data(), s.data() + s.size(), last).ec != std::errc()) return 0;
  return last + 1;
}

bool retryable(const Error& e) {
  return RetryPolicy::is_retryable(e) || e.code() == ErrorCode::kDataLoss;
}

}  // namespace

// One resumable upload session: start, chunks in order, finalize; cancel deletes the session.
class ResumableUpload {
 public:
  ResumableUpload(GcsStore* store, Target t, PutOptions opts)
      : store_(store),
        t_(std::move(t)),
        opts_(std::move(opts)),
        uri_(GcsStore::uri_of(t_.bucket, t_.key)),
        cancel_(opts_.cancel.child()) {}

  ~ResumableUpload() {
    if (started() && !finished_) (void)cancel();
  }

  bool started() const { return !session_.empty(); }
  const std::string& uri() const { return uri_; }

  Status start() {
    std::string meta = upload_metadata(t_.key, opts_);
    Call c;
    c.method = "POST";
    c.path = upload_path(t_);
    c.query = {{"uploadType", "resumable"}, {"name", t_.key}};
    c.headers = {{"Content-Type", "application/json; charset=UTF-8"}};
    if (!opts_.content_type.empty())
      c.headers.emplace_back("X-Upload-Content-Type", opts_.content_type);
    c.body = as_span(meta);
    c.cancel = cancel_;
    c.what = "START RESUMABLE UPLOAD " + uri_;
    OMNIO_ASSIGN_OR_RETURN(http::Response r, store_->perform(std::move(c)));
    session_ = std::string(r.header("location"));
    if (session_.empty())
      return Error(ErrorCode::kInternal, "START RESUMABLE UPLOAD " + uri_ + ": no Location header");
    log::debug("{}: resumable session started", uri_);
    return ok_status();
  }

  // Sends bytes [offset, offset + data.size()) of the object. `total`: the object's size when this
  // is the last chunk. A failed chunk is resumed from the offset the server committed.
  Status send(std::uint64_t offset, std::span<const std::byte> data,
              std::optional<std::uint64_t> total) {
    if (finished_) return Error(ErrorCode::kInternal, uri_ + ": upload already finished");
    const std::uint64_t end = offset + data.size();
    std::uint64_t at = offset;
    int failures = 0;
    for (;;) {
      if (cancel_.is_cancelled())
        return Error(ErrorCode::kCancelled, fmt::format("upload of {} cancelled", uri_));
      auto part = data.subspan(static_cast<std::size_t>(at - offset));
      auto r = put_chunk(at, part, total);
      if (r.ok()) {
        if (r->status != 308) {  // finalized
          if (!total) {
            (void)discard_early_object();
            return Error(
                ErrorCode::kDataLoss,
                fmt::format(
                    "{}: the server finalized the upload at byte {} before the last chunk (it does "
                    "not support multi-chunk resumable uploads; raise single_upload_threshold, "
                    "CLI: "
                    "--part-size)",
                    uri_, end));
          }
          return finish(*r, *total);
        }
        const std::uint64_t committed = committed_from(*r);
        if (committed >= end && !total) return ok_status();
        if (committed < at || committed > end) {
          return Error(ErrorCode::kDataLoss,
                       fmt::format("{}: the server committed {} bytes after a chunk ending at {}",
                                   uri_, committed, end));
        }
        at = committed;  // it kept fewer bytes than sent: send the rest
        continue;
      }
      Error err = std::move(r).error();
      if (!retryable(err) || ++failures >= store_->config().retry.max_attempts) {
        return err.wrap(fmt::format("UPLOAD {} bytes {}-{}", uri_, at, end));
      }
      backoff(failures + 1);
      // Where did the server stop? Resume from there (the bytes before `offset` are gone from
      // memory).
      OMNIO_ASSIGN_OR_RETURN(http::Response st, query_status());
      if (st.status != 308) return finish(st, total.value_or(end));
      const std::uint64_t committed = committed_from(st);
      if (committed < offset || committed > end) {
        return Error(ErrorCode::kDataLoss,
                     fmt::format("{}: cannot resume at byte {}: the chunk held bytes {}-{}", uri_,
                                 committed, offset, end));
      }
      log::debug("{}: chunk at {} failed ({}); resuming at byte {}", uri_, at, err.to_string(),
                 committed);
      at = committed;
      if (at == end && !total) return ok_status();
    }
  }

  // Deletes the session (the service answers 499); nothing becomes visible.
  Status cancel() {
    if (!started() || finished_) return ok_status();
    finished_ = true;
    cancel_.cancel();
    Call c;
    c.method = "DELETE";
    c.path = session_;
    c.also_ok = 499;
    c.what = "CANCEL RESUMABLE UPLOAD " + uri_;
    auto r = store_->perform(std::move(c));
    if (!r.ok() && r.error().code() != ErrorCode::kNotFound) {
      log::warn("{}: {} (the session expires by itself within a week)", c.what,
                r.error().to_string());
      return std::move(r).error();
    }
    return ok_status();
  }

 private:
  Result<http::Response> put_chunk(std::uint64_t at, std::span<const std::byte> part,
                                   std::optional<std::uint64_t> total) {
    Call c;
    c.method = "PUT";
    c.path = session_;
    const std::string size = total ? std::to_string(*total) : "*";
    c.headers.emplace_back("Content-Range", part.empty() ? fmt::format("bytes */{}", size)
                                                         : fmt::format("bytes {}-{}/{}", at,
                                                                       at + part.size() - 1, size));
    c.body = part;
    c.also_ok = 308;
    c.idempotent = false;  // resumed by hand from the committed offset
    c.cancel = cancel_;
    c.kind = Call::Kind::kUpload;
    c.what = fmt::format("UPLOAD {} bytes {}-{}", uri_, at, at + part.size());
    return store_->perform(std::move(c));
  }

  Result<http::Response> query_status() {
    Call c;
    c.method = "PUT";
    c.path = session_;
    c.headers.emplace_back("Content-Range", "bytes */*");
    c.also_ok = 308;
    c.cancel = cancel_;
    c.what = "QUERY RESUMABLE UPLOAD " + uri_;
    return store_->perform(std::move(c));
  }

  Status finish(const http::Response& r, std::uint64_t total) {
    finished_ = true;
    auto o = parse_object(r.body);
    if (o.ok() && o->size != total) {
      return Error(ErrorCode::kDataLoss,
                   fmt::format("{}: the finalized object has {} bytes, {} were uploaded", uri_,
                               o->size, total));
    }
    return ok_status();
  }

  Status discard_early_object() {
    finished_ = true;
    return store_->delete_object(uri_);
  }

  void backoff(int attempt) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    auto d =
        store_->config().retry.backoff(attempt, std::uniform_real_distribution<double>(0, 1)(rng));
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until && !cancel_.is_cancelled()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  GcsStore* store_;
  Target t_;
  PutOptions opts_;
  std::string uri_;
  CancellationToken cancel_;
  std::string session_;
  bool finished_ = false;
};

// ---- whole-object writes ------------------------------------------------------------------------

Status GcsStore::put(std::string_view uri, const Bytes& data, const PutOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  if (data.size() > cfg_.single_upload_threshold)
    return put_multipart(uri, data, std::nullopt, opts);
  const std::string content_type =
      opts.content_type.empty() ? "application/octet-stream" : opts.content_type;
  Call c;
  c.method = "POST";
  c.path = upload_path(t);
  c.kind = Call::Kind::kUpload;
  c.cancel = opts.cancel;
  c.what = fmt::format("UPLOAD {} ({} bytes)", uri_of(t.bucket, t.key), data.size());
  std::string body;  // multipart only: metadata travels with the bytes
  // A content type given by the caller goes in the JSON metadata (multipart): the firebase
  // emulator ignores a media upload's Content-Type header (found by tests/gcs/sdk_gcs.sh), and on
  // the service a multipart upload is one request too.
  if (opts.metadata.empty() && opts.content_type.empty()) {
    c.query = {{"uploadType", "media"}, {"name", t.key}};
    c.headers.emplace_back("Content-Type", content_type);
    c.body = data.span();
  } else {
    static constexpr const char* kBoundary = "omnio-9f2b4c7e1d3a5b8c";
    body = fmt::format(
        "--{}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{}\r\n--{}\r\nContent-Type: "
        "{}\r\n\r\n",
        kBoundary, upload_metadata(t.key, opts), kBoundary, content_type);
    body.append(data.as_string_view());
    body += fmt::format("\r\n--{}--\r\n", kBoundary);
    c.query = {{"uploadType", "multipart"}};
    c.headers.emplace_back("Content-Type",
                           fmt::format("multipart/related; boundary={}", kBoundary));
    c.body = as_span(body);
  }
  OMNIO_ASSIGN_OR_RETURN(http::Response r, perform(std::move(c)));
  if (auto o = parse_object(r.body); o.ok() && o->size != data.size()) {
    return Error(ErrorCode::kDataLoss, fmt::format("UPLOAD {}: the server stored {} bytes of {}",
                                                   uri, o->size, data.size()));
  }
  return ok_status();
}

Status GcsStore::put_multipart(std::string_view uri, const Bytes& data,
                               std::optional<std::size_t> part_size, const PutOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  if (data.size() <= cfg_.single_upload_threshold) return put(uri, data, opts);
  const std::size_t q = kGcsResumableChunkQuantum;
  const std::size_t chunk =
      part_size ? std::max<std::size_t>(q, (*part_size + q - 1) / q * q) : upload_chunk();
  ResumableUpload up(this, t, opts);
  OMNIO_TRY(up.start());
  Status st;
  for (std::size_t off = 0; off < data.size() && st.ok(); off += chunk) {
    const std::size_t n = std::min(chunk, data.size() - off);
    const bool last = off + n == data.size();
    st = up.send(off, data.span().subspan(off, n),
                 last ? std::optional<std::uint64_t>(data.size()) : std::nullopt);
  }
  if (!st.ok()) {
    (void)up.cancel();
    return st;
  }
  return ok_status();
}

// ---- streaming writer ---------------------------------------------------------------------------

namespace {

// Buffers one chunk; a full chunk goes out on a thread of its own once more data follows, while
// the next fills (the protocol is sequential: at most one chunk in flight). A stream of at most one
// chunk (and at most single_upload_threshold) is one request at commit; otherwise the last chunk,
// full or not, carries the total size (no empty finalizing request).
class GcsSink final : public RawSink {
 public:
  GcsSink(std::shared_ptr<GcsStore> store, Target t, PutOptions opts, std::size_t chunk)
      : store_(std::move(store)),
        opts_(std::move(opts)),
        chunk_(chunk),
        up_(store_.get(), std::move(t), opts_) {}

  ~GcsSink() override { (void)wait_inflight(); }

  Status append(std::span<const std::byte> data) override {
    while (!data.empty()) {
      if (buf_ && fill_ == buf_->size()) OMNIO_TRY(flush());  // full, and more data follows
      if (!buf_) {
        OMNIO_ASSIGN_OR_RETURN(AlignedBuffer b, AlignedBuffer::allocate(chunk_, kBufferAlignment));
        buf_ = std::make_shared<AlignedBuffer>(std::move(b));
        fill_ = 0;
      }
      const std::size_t k = std::min(data.size(), buf_->size() - fill_);
      std::memcpy(buf_->data() + fill_, data.data(), k);
      fill_ += k;
      data = data.subspan(k);
    }
    return ok_status();
  }

  Status commit() override {
    OMNIO_TRY(wait_inflight());
    auto body =
        buf_ ? std::span<const std::byte>(buf_->data(), fill_) : std::span<const std::byte>();
    if (!up_.started() && fill_ <= store_->config().single_upload_threshold) {
      Bytes b = buf_ ? Bytes::from_shared(buf_, buf_->data(), fill_) : Bytes();
      buf_.reset();
      return store_->put(up_.uri(), b, opts_);
    }
    if (!up_.started()) OMNIO_TRY(up_.start());
    Status st = up_.send(sent_, body, sent_ + fill_);
    buf_.reset();
    if (!st.ok()) (void)up_.cancel();
    return st;
  }

  Status abort() override {
    (void)wait_inflight();
    buf_.reset();
    return up_.cancel();
  }

 private:
  Status flush() {
    OMNIO_TRY(wait_inflight());
    if (!up_.started()) OMNIO_TRY(up_.start());
    std::shared_ptr<AlignedBuffer> chunk = std::move(buf_);
    const std::uint64_t at = sent_;
    sent_ += fill_;
    fill_ = 0;
    inflight_ = std::jthread([this, chunk, at] {
      inflight_status_ =
          up_.send(at, std::span<const std::byte>(chunk->data(), chunk->size()), std::nullopt);
    });
    return ok_status();
  }

  Status wait_inflight() {
    if (inflight_.joinable()) inflight_.join();
    Status st = std::move(inflight_status_);
    inflight_status_ = ok_status();
    if (!st.ok()) {
      failed_ = st;
      (void)up_.cancel();
    }
    if (failed_) return *failed_;
    return ok_status();
  }

  std::shared_ptr<GcsStore> store_;
  PutOptions opts_;
  std::size_t chunk_;
  ResumableUpload up_;
  std::shared_ptr<AlignedBuffer> buf_;
  std::size_t fill_ = 0;
  std::uint64_t sent_ = 0;
  std::jthread inflight_;
  Status inflight_status_;
  std::optional<Status> failed_;
};

}  // namespace

Result<std::unique_ptr<ObjectWriter>> GcsStore::create_writer(std::string_view uri,
                                                              const WriterOptions& opts) {
  OMNIO_TRY(target(uri, true));
  const std::size_t q = kGcsResumableChunkQuantum;
  const std::size_t chunk =
      opts.part_size ? std::max<std::size_t>(q, (*opts.part_size + q - 1) / q * q) : upload_chunk();
  auto self = shared_from_this();
  return make_stream_writer(
      std::string(uri), opts,
      [self, opts, chunk](const std::string& final_uri) -> Result<std::unique_ptr<RawSink>> {
        OMNIO_ASSIGN_OR_RETURN(Target t, self->target(final_uri, true));
        return std::unique_ptr<RawSink>(std::make_unique<GcsSink>(self, t, opts.put, chunk));
      });
}

}  // namespace omnio::gcs
