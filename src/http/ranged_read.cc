#include "http/ranged_read.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "omnio/constants.h"
#include "omnio/log.h"

namespace omnio::http {
namespace {

// Buffers handed to libcurl: cache-line aligned.
constexpr std::size_t kBufferAlignment = 64;

// A multi-range read whose object was replaced underneath it (If-Match failed) starts over from a
// fresh first range, a few times.
constexpr int kReadRestartsOnChange = 3;

bool object_changed(const Error& e) {
  for (const Error* x = &e; x != nullptr; x = x->cause()) {
    if (x->code() == ErrorCode::kDataLoss && x->http_status() == 412) return true;
  }
  return false;
}

Bytes view_of(std::shared_ptr<AlignedBuffer> buf, std::size_t n) {
  const std::byte* p = buf->data();
  return Bytes::from_shared(std::move(buf), p, n);
}

Error beyond_end(const std::string& uri, std::uint64_t offset, std::uint64_t size) {
  return Error(ErrorCode::kOutOfRange, fmt::format("{}: offset {} is beyond the end of the object "
                                                   "({} bytes)",
                                                   uri, offset, size));
}

}  // namespace

void RangeRequest::apply(ServiceCall& c, const char* range_header_name,
                         std::string_view uri) const {
  c.headers.emplace_back(range_header_name, range_header(offset, length));
  if (!if_match.empty()) c.headers.emplace_back("If-Match", if_match);
  c.has_dest = true;
  c.dest_exact = exact;
  if (writer) {
    c.writer = writer;
    c.writer_size = length;
  } else {
    c.dest = dest;
  }
  c.what = fmt::format("GET {} bytes={}-{}", uri, offset, offset + length - 1);
}

struct RangedReader::Probe {
  std::uint64_t total = 0;  // object size
  std::uint64_t got = 0;    // bytes that landed in dest
  std::string etag;
};

Result<RangedReader::Probe> RangedReader::probe(const RangedSource& src, RangeRequest req,
                                                const CancellationToken& cancel) {
  const std::uint64_t offset = req.offset;
  const std::string what =
      fmt::format("GET {} bytes={}-{}", src.uri, offset, offset + req.length - 1);
  req.exact = false;
  auto r = wait_for([&](Completion done) { src.send(req, cancel, std::move(done)); });
  if (!r.ok()) {
    if (r.error().code() != ErrorCode::kOutOfRange) return std::move(r).error();
    // 416: the range starts at or past the end. Only a HEAD can tell which (rare path).
    OMNIO_ASSIGN_OR_RETURN(ObjectMetadata m, src.head());
    if (offset > m.size) return beyond_end(src.uri, offset, m.size);
    if (offset < m.size) return std::move(r).error();  // the server refused a valid range
    return Probe{m.size, 0, m.etag};
  }
  Probe p;
  p.etag = std::string(r->header("etag"));
  p.got = r->body_bytes;
  if (r->status == 206) {
    std::uint64_t first = 0, last = 0;
    std::int64_t total = -1;
    if (!parse_content_range(r->header("content-range"), &first, &last, &total) || total < 0) {
      return Error(ErrorCode::kDataLoss, fmt::format("{}: unusable Content-Range '{}'", what,
                                                     r->header("content-range")));
    }
    if (first != offset || last - first + 1 != r->body_bytes) {
      return Error(ErrorCode::kDataLoss,
                   fmt::format("{}: server sent bytes {}-{} ({} body bytes) for the range asked",
                               what, first, last, r->body_bytes));
    }
    p.total = static_cast<std::uint64_t>(total);
  } else {
    // 200: the server ignored the range and sent the whole object; usable only from offset 0.
    std::uint64_t len = 0;
    std::string_view cl = r->header("content-length");
    std::from_chars(cl.data(), cl.data() + cl.size(), len);
    if (offset != 0 || len != r->body_bytes) {
      return Error(ErrorCode::kDataLoss,
                   fmt::format("{}: server ignored the range header (HTTP {})", what, r->status));
    }
    p.total = len;
  }
  return p;
}

namespace {

// Completion of a later range: only a 206 with exactly the Content-Range asked for is success.
Completion check_range(std::uint64_t at, std::uint64_t n, std::function<void(Status)> done) {
  return [at, n, done = std::move(done)](Result<Response> r) {
    if (!r.ok()) return done(std::move(r).error());
    std::uint64_t first = 0, last = 0;
    std::int64_t total = -1;
    if (r->status != 206 ||
        !parse_content_range(r->header("content-range"), &first, &last, &total) || first != at ||
        last - first + 1 != n) {
      return done(Error(ErrorCode::kDataLoss,
                        fmt::format("range at {} ({} bytes): server answered HTTP {} with "
                                    "Content-Range '{}'",
                                    at, n, r->status, r->header("content-range"))));
    }
    done(ok_status());
  };
}

// The writer of one range's body: pieces land at base + their offset in the body.
BodyWriter writer_at(const PositionalWriter& w, std::uint64_t base) {
  return [&w, base](std::uint64_t off, std::span<const std::byte> data) {
    return w(base + off, data);
  };
}

}  // namespace

RangeReadFn RangedReader::range_reader(const RangedSource& src, std::uint64_t base,
                                       std::string etag) {
  // By reference: the RangeEngine waits for every range before the caller's src goes away.
  const RangedSource* s = &src;
  return [s, base, etag](std::uint64_t off, std::span<std::byte> dest,
                         const CancellationToken& cancel, std::function<void(Status)> done) {
    RangeRequest rr;
    rr.offset = base + off;
    rr.length = dest.size();
    rr.dest = dest;
    rr.if_match = etag;
    s->send(rr, cancel, check_range(rr.offset, rr.length, std::move(done)));
  };
}

Result<std::shared_ptr<AlignedBuffer>> whole_object_buffer(const BufferSource* buffer_for,
                                                           std::uint64_t want,
                                                           std::shared_ptr<AlignedBuffer>& head,
                                                           std::uint64_t got,
                                                           const CancellationToken& cancel) {
  std::shared_ptr<AlignedBuffer> out;
  if (buffer_for != nullptr) {
    // get_with_buffer: the caller's memory (the loader's, taken in its claim order), asked only
    // now, while the first range holds nothing the budget charges.
    OMNIO_ASSIGN_OR_RETURN(out, (*buffer_for)(want));
    if (out && out->capacity() < want) out.reset();
  }
  if (!out) {
    OMNIO_ASSIGN_OR_RETURN(
        AlignedBuffer own,
        AlignedBuffer::allocate(want, kBufferAlignment, head->take_reservation(), cancel));
    out = std::make_shared<AlignedBuffer>(std::move(own));
  }
  std::memcpy(out->data(), head->data(), got);
  head.reset();
  return out;
}

Result<Bytes> RangedReader::read_from(const RangedSource& src, std::uint64_t offset,
                                      std::optional<std::uint64_t> length, const ReadOptions& opts,
                                      const BufferSource* buffer_for) {
  const std::uint64_t first =
      std::min<std::uint64_t>(buffer_for != nullptr ? kBufferSourceProbeSize : config().chunk_size,
                              length.value_or(UINT64_MAX));
  if (first == 0) {  // length 0: only the range rule to check
    OMNIO_ASSIGN_OR_RETURN(ObjectMetadata m, src.head());
    if (offset > m.size) return beyond_end(src.uri, offset, m.size);
    return Bytes();
  }
  OMNIO_ASSIGN_OR_RETURN(AlignedBuffer head_buf,
                         AlignedBuffer::allocate(first, kBufferAlignment, opts.cancel));
  auto buf = std::make_shared<AlignedBuffer>(std::move(head_buf));
  RangeRequest head_req;
  head_req.offset = offset;
  head_req.length = first;
  head_req.dest = buf->span();
  OMNIO_ASSIGN_OR_RETURN(Probe p, probe(src, head_req, opts.cancel));
  const std::uint64_t end = length ? std::min(p.total, offset + *length) : p.total;
  if (offset + p.got >= end) {
    const std::size_t n = static_cast<std::size_t>(end - offset);
    // A small object in a large probe buffer: keep only what it needs.
    if (n < first / 2) return Bytes::copy_of(std::span<const std::byte>(buf->data(), n));
    return view_of(std::move(buf), n);
  }
  const auto n = static_cast<std::size_t>(end - offset);
  OMNIO_ASSIGN_OR_RETURN(std::shared_ptr<AlignedBuffer> out,
                         whole_object_buffer(buffer_for, n, buf, p.got, opts.cancel));
  auto dest = std::span(out->data(), n).subspan(p.got);
  OMNIO_TRY(engine_.download_into(dest.size(), dest, range_reader(src, offset + p.got, p.etag),
                                  opts.cancel));
  out->resize(n);
  return view_of(std::move(out), n);
}

Result<Bytes> RangedReader::read_restarting(const RangedSource& src, std::uint64_t offset,
                                            std::optional<std::uint64_t> length,
                                            const ReadOptions& opts,
                                            const BufferSource* buffer_for) {
  for (int i = 1;; ++i) {
    auto r = read_from(src, offset, length, opts, buffer_for);
    if (r.ok() || i == kReadRestartsOnChange || !object_changed(r.error())) return r;
    log::debug("{}: changed during a ranged read; reading again", src.uri);
  }
}

Result<Bytes> RangedReader::get_range(const RangedSource& src, std::uint64_t offset,
                                      std::optional<std::uint64_t> length,
                                      const ReadOptions& opts) {
  return read_restarting(src, offset, length, opts, nullptr);
}

Result<Bytes> RangedReader::get_with_buffer(const RangedSource& src, const BufferSource& buffer_for,
                                            const ReadOptions& opts) {
  return read_restarting(src, 0, std::nullopt, opts, &buffer_for);
}

Result<std::uint64_t> RangedReader::get_into(const RangedSource& src, std::uint64_t offset,
                                             std::span<std::byte> dest, const ReadOptions& opts) {
  if (dest.empty()) {
    OMNIO_TRY(read_from(src, offset, 0, opts));
    return std::uint64_t{0};
  }
  auto head_part = dest.first(std::min<std::size_t>(dest.size(), config().chunk_size));
  for (int i = 1;; ++i) {
    RangeRequest head_req;
    head_req.offset = offset;
    head_req.length = head_part.size();
    head_req.dest = head_part;
    OMNIO_ASSIGN_OR_RETURN(Probe p, probe(src, head_req, opts.cancel));
    const std::uint64_t end = std::min<std::uint64_t>(p.total, offset + dest.size());
    if (offset + p.got >= end) return static_cast<std::uint64_t>(end - offset);
    auto rest = dest.subspan(p.got, static_cast<std::size_t>(end - offset - p.got));
    auto r = engine_.download_into(rest.size(), rest, range_reader(src, offset + p.got, p.etag),
                                   opts.cancel);
    if (r.ok()) return static_cast<std::uint64_t>(end - offset);
    if (i == kReadRestartsOnChange || !object_changed(r.error())) return std::move(r).error();
  }
}

Status RangedReader::get_to_sink(const RangedSource& src, const ChunkSink& sink,
                                 const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(
      AlignedBuffer first,
      AlignedBuffer::allocate(config().chunk_size, kBufferAlignment, opts.cancel));
  auto buf = std::make_shared<AlignedBuffer>(std::move(first));
  RangeRequest head_req;
  head_req.length = buf->size();
  head_req.dest = buf->span();
  OMNIO_ASSIGN_OR_RETURN(Probe p, probe(src, head_req, opts.cancel));
  const std::uint64_t got = p.got;
  OMNIO_TRY(sink(0, view_of(std::move(buf), static_cast<std::size_t>(got))));
  if (got >= p.total) return ok_status();
  auto alloc = [](std::size_t n, MemoryReservation r) {
    return AlignedBuffer::allocate(n, kBufferAlignment, std::move(r));
  };
  auto shifted = [&sink, got](std::uint64_t off, Bytes chunk) {
    return sink(got + off, std::move(chunk));
  };
  OMNIO_TRY(engine_.download_to_sink(p.total - got, range_reader(src, got, p.etag), shifted, alloc,
                                     opts.cancel));
  return ok_status();
}

Result<std::uint64_t> RangedReader::get_positional(const RangedSource& src,
                                                   const PositionalWriter& writer,
                                                   const ReadOptions& opts) {
  for (int i = 1;; ++i) {
    // The first range learns the size (and ETag) with its bytes already at their place.
    RangeRequest head_req;
    head_req.length = config().chunk_size;
    head_req.writer = writer_at(writer, 0);
    OMNIO_ASSIGN_OR_RETURN(Probe p, probe(src, head_req, opts.cancel));
    if (p.got >= p.total) return p.total;
    const std::uint64_t base = p.got;
    RangeFetchFn fetch = [&src, &writer, base, etag = p.etag](std::uint64_t off, std::uint64_t n,
                                                              const CancellationToken& cancel,
                                                              std::function<void(Status)> done) {
      RangeRequest rr;
      rr.offset = base + off;
      rr.length = n;
      rr.writer = writer_at(writer, rr.offset);
      rr.if_match = etag;
      src.send(rr, cancel, check_range(rr.offset, n, std::move(done)));
    };
    auto r = engine_.download_unordered(p.total - base, fetch, opts.cancel);
    if (r.ok()) return p.total;
    // A replaced object is read again from the start: every byte is written again, and the
    // caller keeps [0, returned size).
    if (i == kReadRestartsOnChange || !object_changed(r.error())) return std::move(r).error();
    log::debug("{}: changed during a ranged read; reading again", src.uri);
  }
}

}  // namespace omnio::http
