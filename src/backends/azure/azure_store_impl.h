// Internal declaration of the az:// store, shared by azure_store.cc (requests, reads, namespace)
// and azure_write.cc (Put Blob, staged uploads, streaming writer, Copy Blob).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backends/azure/azure_resolve.h"
#include "backends/azure/azure_store.h"
#include "backends/azure/azure_token.h"
#include "http/http_client.h"
#include "http/ranged_read.h"
#include "http/retrying.h"
#include "http/service_call.h"

namespace omnio::azure {

/// Where a URI points.
struct Target {
  std::string account;
  std::string container;
  /// Raw (unencoded) blob name; empty for container-level requests.
  std::string key;
};

/// One Blob service request before signing.
struct Call : http::ServiceCall {
  Target target;  ///< container empty: an account-level request
};

class AzureStore final : public ObjectStore, public std::enable_shared_from_this<AzureStore> {
 public:
  AzureStore(AzureConfig config, Resolved resolved, std::shared_ptr<http::HttpClient> client);

  std::string_view scheme() const override { return "az"; }

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
  Status create_container(std::string_view container_uri) override;
  Status delete_container(std::string_view container_uri) override;
  Status copy(std::string_view src_uri, std::string_view dst_uri) override;

  // ---- shared by the write path ----
  const AzureConfig& config() const { return cfg_; }
  /// Sends a call with retries and Azure error mapping; the completion runs on an HTTP loop thread.
  void submit(Call call, http::Completion done);
  Result<http::Response> perform(Call call);
  /// One Put Blob (at most kAzureMaxSinglePutSize bytes).
  Status put_blob(const Target& t, const Bytes& data, const PutOptions& opts);
  /// Parses a URI of this store; need_key: the blob name must not be empty.
  Result<Target> target(std::string_view uri, bool need_key) const;
  static std::string uri_of(const Target& t);
  /// The blob's URL without a query (Copy Blob's source).
  std::string blob_url(const Target& t) const;
  /// The SAS query to append to URLs ("" unless SAS auth).
  const std::string& sas() const { return res_.sas; }

  AzureStoreStats stats() const;

 private:
  http::RangedSource source(const Target& t);
  Result<ObjectMetadata> properties(const Target& t, const std::string& what);
  Result<http::Request> sign(const Call& c, const std::string& bearer) const;
  std::string path_of(const Target& t) const;

  AzureConfig cfg_;
  Resolved res_;
  std::shared_ptr<http::HttpClient> http_;
  std::shared_ptr<http::RetryBudget> budget_;
  std::unique_ptr<TokenProvider> tokens_;  // Entra ID only
  http::RangedReader reader_;
  struct Counters {
    std::atomic<std::uint64_t> requests{0}, gets{0}, heads{0}, puts{0}, deletes{0}, lists{0},
        retries{0};
  };
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
};

/// HTTP status + x-ms-error-code / error document -> a typed Error naming the operation, the
/// service's code and request id.
Error azure_error(const http::Response& resp, const std::string& what, const std::string& endpoint);

}  // namespace omnio::azure
