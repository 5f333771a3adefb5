// Internal declaration of the s3:// store, shared by s3_store.cc (requests, reads, namespace) and
// s3_write.cc (PUT, multipart, streaming writer).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backends/s3/s3_resolve.h"
#include "backends/s3/s3_store.h"
#include "http/http_client.h"
#include "http/http_date.h"
#include "http/ranged_read.h"
#include "http/retrying.h"
#include "http/service_call.h"
#include "omnio/range_engine.h"

namespace omnio::s3 {

/// One S3 request before signing.
struct Call : http::ServiceCall {
  std::string bucket;
  /// Raw (unencoded) key; empty for bucket-level requests.
  std::string key;
};

/// Where a URI points.
struct Target {
  std::string bucket;
  std::string key;
};

class S3Store final : public ObjectStore, public std::enable_shared_from_this<S3Store> {
 public:
  S3Store(S3Config config, Resolved resolved, std::shared_ptr<http::HttpClient> client);

  std::string_view scheme() const override { return "s3"; }

  Result<Bytes> get(std::string_view uri, const ReadOptions& opts) override;
  Result<Bytes> get_range(std::string_view uri, std::uint64_t offset,
                          std::optional<std::uint64_t> length, const ReadOptions& opts) override;
  Result<Bytes> get_with_buffer(std::string_view uri, const BufferSource& buffer_for,
                                const ReadOptions& opts) override;
  Result<std::uint64_t> get_into(std::string_view uri, std::uint64_t offset,
                                 std::span<std::byte> dest, const ReadOptions& opts) override;
  Status get_to_sink(std::string_view uri, const ChunkSink& sink, const ReadOptions& opts) override;
  Result<std::uint64_t> get_positional(std::string_view uri, const PositionalWriter& writer,
                                       const ReadOptions& opts) override;

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
  BatchReport delete_objects(const std::vector<std::string>& uris,
                             const CancellationToken& cancel) override;
  Status create_container(std::string_view container_uri) override;
  Status delete_container(std::string_view container_uri) override;
  Status copy(std::string_view src_uri, std::string_view dst_uri) override;

  // ---- shared by the write path ----
  const S3Config& config() const { return cfg_; }
  /// Sends a call with retries and S3 error mapping; the completion runs on an HTTP loop thread.
  void submit(Call call, http::Completion done);
  Result<http::Response> perform(Call call);
  /// HEAD; with `checksum_mode` it sends `x-amz-checksum-mode: ENABLED` and also returns the
  /// object's x-amz-checksum-crc32c ("" when the server keeps or returns none).
  Result<std::pair<ObjectMetadata, std::string>> head_with_checksum(const Target& t,
                                                                    const std::string& what,
                                                                    bool checksum_mode = true);
  /// Parses a URI of this store; need_key: the key must not be empty.
  Result<Target> target(std::string_view uri, bool need_key) const;
  std::string uri_of(const std::string& bucket, const std::string& key) const;

  S3StoreStats stats() const;

 private:
  /// The shared read path's view of one object.
  http::RangedSource source(const Target& t);
  Result<ObjectMetadata> head(const Target& t, const std::string& what);
  /// DeleteObjects batches of kS3MaxDeleteBatch keys, kDefaultS3DeleteConcurrency in flight.
  BatchReport delete_keys(const std::string& bucket, const std::vector<std::string>& keys,
                          const CancellationToken& cancel);
  Result<http::Request> sign(const Call& c, const std::string& payload_hash) const;

  S3Config cfg_;
  Resolved res_;
  std::shared_ptr<http::HttpClient> http_;
  std::shared_ptr<http::RetryBudget> budget_;
  http::RangedReader reader_;
  struct Counters {
    std::atomic<std::uint64_t> requests{0}, gets{0}, heads{0}, puts{0}, posts{0}, deletes{0},
        lists{0}, retries{0};
  };
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
};

/// HTTP status + S3 error document -> a typed Error naming the operation, the service's code, the
/// request id and the endpoint.
Error s3_error(const http::Response& resp, const std::string& what, const std::string& endpoint);

/// A one-line explanation of an S3 error code, for servers that send an empty <Message>.
std::string explain_s3_code(std::string_view code);

/// Shared with the other backends (src/http/http_date.h).
using http::to_rfc3339;

}  // namespace omnio::s3
