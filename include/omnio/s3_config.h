// S3Config: how s3:// stores find their endpoint, region and credentials, and how they move bytes.
// Every field left empty is resolved the way the AWS CLI resolves it (docs/CONFIGURATION.md):
// explicit value > environment > shared config/credentials files > default.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "omnio/constants.h"
#include "omnio/range_engine.h"
#include "omnio/retry.h"

namespace omnio {

/// Transport settings shared by the network backends.
struct HttpSettings {
  /// libcurl event-loop threads (each owns a connection cache).
  std::size_t event_loops = kDefaultHttpEventLoops;
  /// TCP + TLS connect timeout.
  std::chrono::milliseconds connect_timeout = kDefaultConnectTimeout;
  /// A transfer moving less than 1 byte/s for this long is a stall (kDeadlineExceeded).
  std::chrono::seconds stall_timeout = kDefaultStallTimeout;
  /// Ramped start: connections being established at once per event loop (0 = unlimited).
  std::size_t max_connecting = kDefaultMaxConnectingPerLoop;
  /// Offer HTTP/2 over TLS (HTTP/1.1 otherwise).
  bool http2 = false;
  /// Verify TLS certificates.
  bool verify_tls = true;
  /// PEM CA bundle; empty = AWS_CA_BUNDLE, else the system store.
  std::string ca_bundle;
};

/// Configuration of s3:// stores.
struct S3Config {
  /// "http://127.0.0.1:7480"; empty = AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's
  /// endpoint_url, else AWS (https://s3.<region>.amazonaws.com).
  std::string endpoint;
  /// Empty = AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else kDefaultS3Region.
  std::string region;
  /// Shared-file profile; empty = AWS_PROFILE, else "default".
  std::string profile;
  /// Explicit credentials (take precedence over the environment and the files).
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  /// Path-style URLs (endpoint/bucket/key). nullopt = path-style for custom endpoints and for
  /// bucket names with dots, virtual-hosted (bucket.s3.region.amazonaws.com) for AWS.
  std::optional<bool> path_style;
  /// Send x-amz-content-sha256: UNSIGNED-PAYLOAD instead of hashing bodies (trusted endpoints; TLS
  /// protects integrity). Default: bodies are hashed and signed.
  bool unsigned_payload = false;
  /// Transport.
  HttpSettings http;
  /// Retries of idempotent requests.
  RetryPolicy retry;
  /// Large GETs: chunk, ranges in flight, split threshold, per-range timeout.
  RangeEngineConfig range_engine = {kDefaultNetworkRangeChunkSize, kDefaultNetworkMaxConcurrent,
                                    kDefaultS3RangeEngineThreshold, kDefaultRangeTimeout};
  /// Multipart part size, bytes (nullopt = kDefaultPartSize, grown so the object fits in 10,000
  /// parts when the size is known).
  std::optional<std::size_t> part_size;
  /// Parts of one upload in flight. Peak memory of a streaming upload ~ (this + 1) x part size.
  std::size_t max_parts_in_flight = kDefaultS3MaxPartsInFlight;
  /// After CompleteMultipartUpload, HEAD the object and check its size (and, with
  /// checksum_crc32c, the server's composite CRC32C when it returns one).
  bool verify_after_complete = true;
  /// Send x-amz-checksum-crc32c with every PUT and uploaded part (the server rejects a corrupted
  /// body with BadDigest) and create multipart uploads with the CRC32C algorithm.
  bool checksum_crc32c = kDefaultS3ChecksumCrc32c;
  /// Objects written with put()/a writer at most this large use one PUT, bytes.
  std::size_t multipart_threshold = kDefaultS3MultipartThreshold;
  /// Keys per ListObjectsV2 page (max-keys), 1..kS3ListPageSize; every page is read.
  std::size_t list_page_size = kS3ListPageSize;

  Status validate() const;
};

}  // namespace omnio
