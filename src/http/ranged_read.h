// The read path every HTTP object store shares: no HEAD on the default path (the first ranged GET
// learns the object's size from Content-Range), the rest through the RangeEngine with If-Match on
// the ETag the first range saw, and a restart from a fresh first range when the object changes
// underneath (HTTP 412), so a caller gets one consistent version or an error, never a mix.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "http/content_range.h"
#include "http/http_client.h"
#include "http/service_call.h"
#include "omnio/object_store.h"
#include "omnio/range_engine.h"

namespace omnio::http {

/// One ranged GET of a RangedSource: `length` bytes at `offset`, landing in `dest` (length ==
/// dest.size()) or, when `writer` is set, handed to it (offset within this range's body).
struct RangeRequest {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::span<std::byte> dest;
  BodyWriter writer;
  /// false: the body may be shorter (a range that runs past the end of the object).
  bool exact = true;
  /// Sent as If-Match when not empty.
  std::string if_match;

  /// Fills a backend's GET: the range in `range_header_name` ("Range" / "x-ms-range"), If-Match,
  /// the destination or writer, and `what` ("GET uri bytes=a-b").
  void apply(ServiceCall& c, const char* range_header_name, std::string_view uri) const;
};

/// One object of a backend, as the shared read path needs it.
struct RangedSource {
  /// "s3://bucket/key" for messages.
  std::string uri;
  /// Sends the GET of `r` (the backend picks the range header: "Range" or "x-ms-range", value from
  /// range_header()). `done` gets 2xx responses; other statuses arrive as typed errors (412 must
  /// be kDataLoss with HTTP status 412, 416 kOutOfRange).
  std::function<void(const RangeRequest& r, const CancellationToken& cancel, Completion done)> send;
  /// Size and ETag without reading (HEAD / Get Blob Properties): only for 416 answers and
  /// zero-length reads.
  std::function<Result<ObjectMetadata>()> head;
};

/// The whole-object buffer of a read whose first `got` bytes landed in `head` (its first range):
/// the caller's when `buffer_for` is given and its buffer holds `want` bytes, else a fresh one that
/// takes over head's budget share (waiting for `want` while holding it could wait for ourselves).
/// The first bytes are copied in and `head` is released. Shared by every network store's reads.
Result<std::shared_ptr<AlignedBuffer>> whole_object_buffer(const BufferSource* buffer_for,
                                                           std::uint64_t want,
                                                           std::shared_ptr<AlignedBuffer>& head,
                                                           std::uint64_t got,
                                                           const CancellationToken& cancel);

/// get_range / get_into / get_to_sink of the ObjectStore contract over a RangedSource.
class RangedReader {
 public:
  explicit RangedReader(RangeEngineConfig config) : engine_(config) {}
  const RangeEngineConfig& config() const { return engine_.config(); }

  Result<Bytes> get_range(const RangedSource& src, std::uint64_t offset,
                          std::optional<std::uint64_t> length, const ReadOptions& opts);
  Result<std::uint64_t> get_into(const RangedSource& src, std::uint64_t offset,
                                 std::span<std::byte> dest, const ReadOptions& opts);
  /// ObjectStore::get_with_buffer: the first range (at most kBufferSourceProbeSize, in heap memory
  /// that the budget does not charge) learns the size; `buffer_for` is asked once per attempt and
  /// the rest lands in its buffer (or in our own when it gives none that fits).
  Result<Bytes> get_with_buffer(const RangedSource& src, const BufferSource& buffer_for,
                                const ReadOptions& opts);
  Status get_to_sink(const RangedSource& src, const ChunkSink& sink, const ReadOptions& opts);
  /// ObjectStore::get_positional: ranges go straight from the connection to `writer`.
  Result<std::uint64_t> get_positional(const RangedSource& src, const PositionalWriter& writer,
                                       const ReadOptions& opts);

 private:
  struct Probe;
  Result<Probe> probe(const RangedSource& src, RangeRequest req, const CancellationToken& cancel);
  Result<Bytes> read_from(const RangedSource& src, std::uint64_t offset,
                          std::optional<std::uint64_t> length, const ReadOptions& opts,
                          const BufferSource* buffer_for = nullptr);
  /// read_from() again from a fresh first range while the object changes under it, a few times.
  Result<Bytes> read_restarting(const RangedSource& src, std::uint64_t offset,
                                std::optional<std::uint64_t> length, const ReadOptions& opts,
                                const BufferSource* buffer_for);
  RangeReadFn range_reader(const RangedSource& src, std::uint64_t base, std::string etag);

  RangeEngine engine_;
};

}  // namespace omnio::http
