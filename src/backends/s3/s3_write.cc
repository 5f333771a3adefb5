// s3:// writes: single PUT, multipart uploads with a bounded number of parts in flight (the permit
// is taken BEFORE a part is dispatched), the streaming writer, and server-side copy.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include "backends/s3/s3_store_impl.h"
#include "backends/s3/s3_xml.h"
#include "core/part_sink.h"
#include "core/stream_writer.h"
#include "http/part_pipeline.h"
#include "omnio/crc32c.h"
#include "omnio/log.h"

namespace omnio::s3 {
namespace {

void add_put_headers(Call& c, const PutOptions& opts) {
  if (!opts.content_type.empty()) c.headers.emplace_back("Content-Type", opts.content_type);
  for (const auto& [k, v] : opts.metadata) c.headers.emplace_back("x-amz-meta-" + k, v);
}

// Part n (1-based) of a stream of unknown length: the base size for the first 1,000 parts, then
// doubling every 1,000 parts (capped at 5 GiB), so 10,000 parts reach past S3's 5 TiB limit with a
// 16 MiB base while small streams keep small parts.
std::size_t streaming_part_size(std::size_t base, std::size_t n) {
  const std::size_t doublings = std::min<std::size_t>((n - 1) / 1000, 20);
  return static_cast<std::size_t>(
      std::min<std::uint64_t>(kS3MaxPartSize, static_cast<std::uint64_t>(base) << doublings));
}

// A part size for a known total: at least `wanted` and S3's minimum, and large enough for 10,000
// parts; rounded up to a MiB.
std::size_t part_size_for(std::uint64_t total, std::size_t wanted) {
  std::uint64_t ps = std::max<std::uint64_t>(wanted, kS3MinPartSize);
  const std::uint64_t need = (total + kS3MaxParts - 1) / kS3MaxParts;
  if (need > ps) ps = (need + kMiB - 1) / kMiB * kMiB;
  return static_cast<std::size_t>(std::min<std::uint64_t>(ps, kS3MaxPartSize));
}

}  // namespace

// One multipart upload: create, parts in flight under a permit count, complete or abort.
class MultipartUpload {
 public:
  // `checksums`: ask for CRC32C and send each part's (uploads of our bytes; copies do not).
  MultipartUpload(std::shared_ptr<S3Store> store, Target t, PutOptions opts, bool checksums)
      : checksums_(checksums && store->config().checksum_crc32c),
        store_(std::move(store)),
        t_(std::move(t)),
        opts_(std::move(opts)),
        uri_(store_->uri_of(t_.bucket, t_.key)),
        cancel_(opts_.cancel.child()),
        parts_(store_->config().max_parts_in_flight, cancel_, uri_) {}

  ~MultipartUpload() {
    if (!upload_id_.empty() && !completed_ && !aborted_) (void)abort();
  }

  const std::string& uri() const { return uri_; }
  bool started() const { return !upload_id_.empty(); }

  Status start() {
    Call c;
    c.method = "POST";
    c.bucket = t_.bucket;
    c.key = t_.key;
    c.query = {{"uploads", ""}};
    add_put_headers(c, opts_);
    if (checksums_) c.headers.emplace_back("x-amz-checksum-algorithm", "CRC32C");
    c.cancel = cancel_;
    c.what = "CREATE MULTIPART UPLOAD " + uri_;
    OMNIO_ASSIGN_OR_RETURN(http::Response r, store_->perform(std::move(c)));
    auto id = parse_initiate_multipart(r.body);
    if (!id.ok()) return id.error().wrap("CREATE MULTIPART UPLOAD " + uri_);
    upload_id_ = *id;
    log::debug("{}: multipart upload {} started", uri_, upload_id_);
    return ok_status();
  }

  // Sends part `n`. Blocks until a permit is free; returns the upload's first error instead of
  // sending once anything failed. `owner` keeps the body alive until the part completes.
  Status send_part(int n, std::span<const std::byte> body, std::shared_ptr<const void> owner,
                   std::string copy_source = {}, std::string copy_range = {}) {
    OMNIO_TRY(parts_.acquire());
    Call c;
    c.method = "PUT";
    c.bucket = t_.bucket;
    c.key = t_.key;
    c.query = {{"partNumber", std::to_string(n)}, {"uploadId", upload_id_}};
    c.body = body;
    if (!copy_source.empty()) {
      c.headers.emplace_back("x-amz-copy-source", copy_source);
      c.headers.emplace_back("x-amz-copy-source-range", copy_range);
    } else if (checksums_) {
      const std::uint32_t crc = crc32c(body);
      c.headers.emplace_back("x-amz-sdk-checksum-algorithm", "CRC32C");
      c.headers.emplace_back("x-amz-checksum-crc32c", crc32c_b64(crc));
      std::lock_guard g(mu_);
      crcs_[n] = crc;
    }
    c.cancel = cancel_;
    c.what = fmt::format("UPLOAD PART {} of {} ({} bytes)", n, uri_, body.size());
    const bool is_copy = !copy_source.empty();
    store_->submit(
        std::move(c), [this, n, is_copy, owner = std::move(owner)](Result<http::Response> r) {
          std::string etag;
          Error err;
          bool ok = r.ok();
          if (ok) {
            if (is_copy) {
              auto e = parse_copy_result(r->body);
              ok = e.ok();
              if (ok)
                etag = *e;
              else
                err = e.error();
            } else {
              etag = std::string(r->header("etag"));
              if (etag.empty()) {
                ok = false;
                err = Error(ErrorCode::kInternal,
                            fmt::format("part {} of {}: the server returned no ETag", n, uri_));
              }
            }
          } else {
            err = std::move(r).error();
          }
          if (ok) {
            std::lock_guard g(mu_);
            etags_[n] = etag;
          }
          parts_.finish(ok ? ok_status() : Status(std::move(err)));
        });
    return ok_status();
  }

  // Completes after every part succeeded; never after an error.
  Status complete(std::uint64_t expected_size, int parts) {
    OMNIO_TRY(parts_.wait_all());
    std::vector<CompletedPart> list;
    std::string composite;  // S3's COMPOSITE checksum of the parts, to compare after complete
    {
      std::lock_guard g(mu_);
      if (static_cast<int>(etags_.size()) != parts) {
        return Error(ErrorCode::kInternal,
                     fmt::format("{}: {} of {} parts acknowledged", uri_, etags_.size(), parts));
      }
      std::vector<std::uint32_t> part_crcs;
      for (const auto& [n, e] : etags_) {
        CompletedPart p{n, e, {}};
        if (checksums_) {
          part_crcs.push_back(crcs_.at(n));
          p.checksum_crc32c = crc32c_b64(part_crcs.back());
        }
        list.push_back(std::move(p));
      }
      if (checksums_) composite = composite_crc32c_b64(part_crcs);
    }
    std::string body = build_complete_multipart(list);
    Call c;
    c.method = "POST";
    c.bucket = t_.bucket;
    c.key = t_.key;
    c.query = {{"uploadId", upload_id_}};
    c.headers.emplace_back("Content-Type", "application/xml");
    c.body = std::as_bytes(std::span<const char>(body.data(), body.size()));
    c.cancel = cancel_;
    c.what = fmt::format("COMPLETE MULTIPART UPLOAD {} ({} parts)", uri_, parts);
    OMNIO_ASSIGN_OR_RETURN(http::Response r, store_->perform(std::move(c)));
    // 200 can carry an <Error> document: that upload is NOT complete.
    if (auto etag = parse_complete_multipart(r.body); !etag.ok()) {
      return etag.error().wrap(fmt::format("COMPLETE MULTIPART UPLOAD {}", uri_));
    }
    completed_ = true;
    if (store_->config().verify_after_complete) {
      auto m = store_->head_with_checksum(t_, "HEAD " + uri_ + " (verify)");
      if (!m.ok())
        return m.error().wrap(fmt::format("verifying {} after CompleteMultipartUpload", uri_));
      if (m->first.size != expected_size) {
        return Error(
            ErrorCode::kDataLoss,
            fmt::format("{}: after CompleteMultipartUpload the object has {} bytes, {} were "
                        "uploaded",
                        uri_, m->first.size, expected_size));
      }
      // A server that keeps checksums answers with the composite it computed from the parts,
      // as "<base64>-<parts>" (AWS) or "<base64>" (moto); one that does not (Ceph before Reef)
      // sends none and only the size is checked.
      const std::string& server = m->second;
      const std::string_view ours_crc = std::string_view(composite).substr(0, composite.find('-'));
      if (!composite.empty() && !server.empty() && server != composite && server != ours_crc) {
        return Error(ErrorCode::kDataLoss,
                     fmt::format("{}: after CompleteMultipartUpload the server's CRC32C is {}, "
                                 "the {} uploaded parts give {}",
                                 uri_, server, parts, composite));
      }
      if (!composite.empty()) {
        log::debug("{}: CRC32C after complete: server {}, uploaded {}", uri_,
                   server.empty() ? "(none)" : server, composite);
      }
    }
    return ok_status();
  }

  // Cancels in-flight parts, waits for them, and aborts the upload (best effort; logged).
  Status abort() {
    if (upload_id_.empty() || aborted_ || completed_) return ok_status();
    aborted_ = true;
    parts_.cancel_and_wait();
    Call c;
    c.method = "DELETE";
    c.bucket = t_.bucket;
    c.key = t_.key;
    c.query = {{"uploadId", upload_id_}};
    c.what = fmt::format("ABORT MULTIPART UPLOAD {} (upload id {})", uri_, upload_id_);
    auto r = store_->perform(std::move(c));
    if (!r.ok()) {
      log::warn("{}: {}; the parts stay billed until a lifecycle rule removes them", c.what,
                r.error().to_string());
      return std::move(r).error();
    }
    log::debug("{}: aborted", uri_);
    return ok_status();
  }

 private:
  const bool checksums_;  // first: initialised from `store` before store_ takes it
  std::shared_ptr<S3Store> store_;
  Target t_;
  PutOptions opts_;
  std::string uri_;
  CancellationToken cancel_;
  std::string upload_id_;
  bool completed_ = false;
  bool aborted_ = false;
  http::PartPipeline parts_;
  std::mutex mu_;  // guards etags_ and crcs_
  std::map<int, std::string> etags_;
  std::map<int, std::uint32_t> crcs_;
};

// ---- whole-object writes ------------------------------------------------------------------------

Status S3Store::put(std::string_view uri, const Bytes& data, const PutOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  if (data.size() > kS3MaxSinglePutSize) return put_multipart(uri, data, std::nullopt, opts);
  Call c;
  c.method = "PUT";
  c.bucket = t.bucket;
  c.key = t.key;
  c.body = data.span();
  add_put_headers(c, opts);
  // The server checks the body against it (AWS, MinIO, Ceph Reef: BadDigest on a mismatch).
  if (cfg_.checksum_crc32c) {
    // The algorithm header too, as the AWS SDKs send it (servers such as moto record the
    // checksum only with it).
    c.headers.emplace_back("x-amz-sdk-checksum-algorithm", "CRC32C");
    c.headers.emplace_back("x-amz-checksum-crc32c", crc32c_b64(crc32c(data.span())));
  }
  c.cancel = opts.cancel;
  c.what = fmt::format("PUT {} ({} bytes)", uri_of(t.bucket, t.key), data.size());
  OMNIO_TRY(perform(std::move(c)));
  return ok_status();
}

Status S3Store::put_multipart(std::string_view uri, const Bytes& data,
                              std::optional<std::size_t> part_size, const PutOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  const std::size_t ps =
      part_size_for(data.size(), part_size.value_or(cfg_.part_size.value_or(kDefaultPartSize)));
  if (data.size() <= ps) {
    if (data.size() > kS3MaxSinglePutSize) {
      return Error(ErrorCode::kInvalidArgument, fmt::format("{}: object too large", uri));
    }
    return put(uri, data, opts);
  }
  if (data.size() > kS3MaxObjectSize) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{}: {} bytes exceed S3's 5 TiB object limit", uri, data.size()));
  }
  MultipartUpload up(shared_from_this(), t, opts, true);
  OMNIO_TRY(up.start());
  int n = 0;
  Status st;
  for (std::size_t off = 0; off < data.size() && st.ok(); off += ps) {
    st = up.send_part(++n, data.span().subspan(off, std::min(ps, data.size() - off)), nullptr);
  }
  if (st.ok()) st = up.complete(data.size(), n);
  if (!st.ok()) {
    (void)up.abort();
    return st;
  }
  return ok_status();
}

// ---- streaming writer ---------------------------------------------------------------------------

namespace {

// A PartSink over one multipart upload: a full part goes out as UploadPart (the upload starts with
// the first full part); a stream that never fills a part is one PUT at commit.
std::unique_ptr<RawSink> s3_sink(std::shared_ptr<S3Store> store, const Target& t,
                                 const PutOptions& opts, std::size_t base_part) {
  auto up = std::make_shared<MultipartUpload>(store, t, opts, true);
  PartSink::Ops ops;
  ops.part_size = [base_part](std::size_t n) { return streaming_part_size(base_part, n); };
  ops.start = [up] { return up->start(); };
  ops.send_part = [up](int n, std::span<const std::byte> body, std::shared_ptr<const void> owner) {
    return up->send_part(n, body, std::move(owner));
  };
  ops.complete = [up](std::uint64_t total, int parts) { return up->complete(total, parts); };
  ops.single_put = [store, uri = up->uri(), opts](const Bytes& data) {
    return store->put(uri, data, opts);
  };
  ops.abort = [up] { return up->abort(); };
  ops.parts_in_flight = store->config().max_parts_in_flight;
  ops.cancel = opts.cancel;
  return std::make_unique<PartSink>(std::move(ops));
}

}  // namespace

Result<std::unique_ptr<ObjectWriter>> S3Store::create_writer(std::string_view uri,
                                                             const WriterOptions& opts) {
  OMNIO_TRY(target(uri, true));
  std::size_t part = opts.part_size.value_or(cfg_.part_size.value_or(kDefaultPartSize));
  if (part < kS3MinPartSize || part > kS3MaxPartSize) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("part size {} is outside S3's limits (5 MiB .. 5 GiB)", part));
  }
  auto self = shared_from_this();
  return make_stream_writer(
      std::string(uri), opts,
      [self, opts, part](const std::string& final_uri) -> Result<std::unique_ptr<RawSink>> {
        OMNIO_ASSIGN_OR_RETURN(Target t, self->target(final_uri, true));
        return s3_sink(self, t, opts.put, part);
      });
}

// ---- server-side copy ---------------------------------------------------------------------------

Status S3Store::copy(std::string_view src_uri, std::string_view dst_uri) {
  OMNIO_ASSIGN_OR_RETURN(Target src, target(src_uri, true));
  OMNIO_ASSIGN_OR_RETURN(Target dst, target(dst_uri, true));
  const std::string from = uri_of(src.bucket, src.key);
  OMNIO_ASSIGN_OR_RETURN(ObjectMetadata m, stat(from));
  const std::string source = uri_encode(src.bucket + "/" + src.key, false);
  if (m.size <= kS3MaxSinglePutSize) {
    Call c;
    c.method = "PUT";
    c.bucket = dst.bucket;
    c.key = dst.key;
    c.headers.emplace_back("x-amz-copy-source", source);
    c.headers.emplace_back("x-amz-copy-source-if-match", m.etag);
    c.what = fmt::format("COPY {} -> {}", from, uri_of(dst.bucket, dst.key));
    const std::string what = c.what;
    OMNIO_ASSIGN_OR_RETURN(http::Response r, perform(std::move(c)));
    if (auto e = parse_copy_result(r.body); !e.ok()) return e.error().wrap(what);
    return ok_status();
  }
  MultipartUpload up(shared_from_this(), dst, PutOptions{}, false);
  OMNIO_TRY(up.start());
  int n = 0;
  Status st;
  for (std::uint64_t off = 0; off < m.size && st.ok(); off += kDefaultS3CopyPartSize) {
    const std::uint64_t len = std::min<std::uint64_t>(kDefaultS3CopyPartSize, m.size - off);
    st = up.send_part(++n, {}, nullptr, source, fmt::format("bytes={}-{}", off, off + len - 1));
  }
  if (st.ok()) st = up.complete(m.size, n);
  if (!st.ok()) {
    (void)up.abort();
    return st.error().wrap(fmt::format("COPY {} -> {}", from, uri_of(dst.bucket, dst.key)));
  }
  return ok_status();
}

}  // namespace omnio::s3
