// Internal declaration of the gs:// store, shared by gcs_store.cc (requests, errors, reads, stat),
// gcs_namespace.cc (list, delete, buckets, copy) and gcs_write.cc (uploads and the writer).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backends/gcs/gcs_auth.h"
#include "backends/gcs/gcs_json.h"
#include "backends/gcs/gcs_store.h"
#include "http/http_client.h"
#include "http/retrying.h"
#include "omnio/range_engine.h"

namespace omnio::gcs {

/// One JSON API request before the token is added.
struct Call {
  std::string method = "GET";
  /// Path under the endpoint ("/storage/v1/b/bkt/o/k%2Fey", already encoded), or a full URL (a
  /// resumable session URI).
  std::string path;
  /// Raw query parameters (encoded when sent).
  std::vector<std::pair<std::string, std::string>> query;
  http::Headers headers;
  std::span<const std::byte> body;
  std::span<std::byte> dest;
  bool has_dest = false;
  bool dest_exact = true;
  std::chrono::milliseconds timeout{0};
  bool idempotent = true;
  /// Statuses accepted besides 2xx (308 Resume Incomplete for resumable chunks).
  long also_ok = 0;
  CancellationToken cancel;
  /// "GET gs://bucket/key" for messages.
  std::string what;
  /// Counter bucket for stats.
  enum class Kind { kOther, kMedia, kMetadata, kUpload, kDelete, kList } kind = Kind::kOther;
};

/// Where a URI points.
struct Target {
  std::string bucket;
  std::string key;
};

class GcsStore final : public ObjectStore, public std::enable_shared_from_this<GcsStore> {
 public:
  GcsStore(GcsConfig config, Resolved resolved, std::shared_ptr<http::HttpClient> client,
           std::shared_ptr<http::HttpClient> token_client);

  std::string_view scheme() const override { return "gs"; }

  Result<Bytes> get(std::string_view uri, const ReadOptions& opts) override;
  Result<Bytes> get_range(std::string_view uri, std::uint64_t offset,
                          std::optional<std::uint64_t> length, const ReadOptions& opts) override;
  Result<Bytes> get_with_buffer(std::string_view uri, const BufferSource& buffer_for,
                                const ReadOptions& opts) override;
  Result<std::uint64_t> get_into(std::string_view uri, std::uint64_t offset,
                                 std::span<std::byte> dest, const ReadOptions& opts) override;
  Status get_to_sink(std::string_view uri, const ChunkSink& sink, const ReadOptions& opts) override;

  Status put(std::string_view uri, const Bytes& data, const PutOptions& opts) override;
  Status put_multipart(std::string_view uri, const Bytes& data,
                       std::optional<std::size_t> part_size, const PutOptions& opts) override;
  Result<std::unique_ptr<ObjectWriter>> create_writer(std::string_view uri,
                                                      const WriterOptions& opts) override;

  Result<std::vector<ListEntry>> list_entries(std::string_view prefix_uri, bool recursive) override;
  Status list_stream(std::string_view prefix_uri, bool recursive, const ListSink& sink,
                     const CancellationToken& cancel = {}) override;
  Result<std::vector<std::string>> list_containers(std::string_view root_uri) override;
  Result<ObjectMetadata> stat(std::string_view uri) override;
  Status delete_object(std::string_view uri) override;
  Result<std::uint64_t> delete_prefix(std::string_view prefix_uri) override;
  Status create_container(std::string_view container_uri) override;
  Status delete_container(std::string_view container_uri) override;
  Status copy(std::string_view src_uri, std::string_view dst_uri) override;

  // ---- shared by the other files ----
  const GcsConfig& config() const { return cfg_; }
  const Resolved& resolved() const { return res_; }
  /// Sends a call with retries and GCS error mapping; the completion runs on an HTTP loop thread.
  void submit(Call call, http::Completion done);
  Result<http::Response> perform(Call call);
  /// Parses a URI of this store; need_key: the key must not be empty.
  Result<Target> target(std::string_view uri, bool need_key) const;
  static std::string uri_of(const std::string& bucket, const std::string& key);
  /// "/storage/v1/b/<bucket>/o/<key>" with both encoded.
  static std::string object_path(const Target& t);
  /// objects.get (metadata).
  Result<ObjectResource> get_object_resource(const Target& t, const std::string& what);
  /// Bytes read through the RangeEngine chunk per request (also the single-read probe size).
  std::size_t chunk() const { return cfg_.range_engine.chunk_size; }
  /// Resumable chunk size rounded up to the quantum.
  std::size_t upload_chunk() const;

  GcsStoreStats stats() const;

 private:
  struct Probe;
  Result<Probe> probe(const Target& t, std::uint64_t offset, std::span<std::byte> dest,
                      const CancellationToken& cancel);
  /// `buffer_for` (get_with_buffer): a first range of at most kBufferSourceProbeSize, the rest
  /// into the caller's buffer when it gives one that fits.
  Result<Bytes> read_from(const Target& t, std::uint64_t offset,
                          std::optional<std::uint64_t> length, const ReadOptions& opts,
                          const BufferSource* buffer_for = nullptr);
  /// read_from() again from a fresh first range while the object changes under it, a few times.
  Result<Bytes> read_restarting(std::string_view uri, std::uint64_t offset,
                                std::optional<std::uint64_t> length, const ReadOptions& opts,
                                const BufferSource* buffer_for);
  RangeReadFn range_reader(const Target& t, std::uint64_t base, std::string generation);
  Status verify_crc(const Target& t, const Probe& p, std::uint32_t crc) const;
  Result<http::Request> build(const Call& c) const;

  GcsConfig cfg_;
  Resolved res_;
  std::shared_ptr<http::HttpClient> http_;
  std::shared_ptr<http::HttpClient> token_http_;
  std::shared_ptr<http::RetryBudget> budget_;
  RangeEngine engine_;
  struct Counters {
    std::atomic<std::uint64_t> requests{0}, media_gets{0}, metadata_gets{0}, uploads{0}, deletes{0},
        lists{0}, retries{0};
  };
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
};

/// HTTP status + GCS error document -> a typed Error naming the operation, the reason and the
/// endpoint.
Error gcs_error(const http::Response& resp, const std::string& what, const std::string& endpoint);

/// True when `e` (or a cause) says the object changed under a multi-range read (412 on a
/// generation-pinned range, or 404 of the pinned generation).
bool object_changed(const Error& e);

}  // namespace omnio::gcs
