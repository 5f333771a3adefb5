// s3:// store: a thin S3 client over the shared HTTP engine (src/http), SigV4-signed, with ranged
// GETs through the RangeEngine (no HEAD on the read path) and bounded multipart uploads.
#pragma once

#include <cstdint>
#include <memory>

#include "omnio/object_store.h"
#include "omnio/s3_config.h"

namespace omnio {

Result<std::shared_ptr<ObjectStore>> make_s3_store(const S3Config& config);

/// Requests an s3:// store sent, by kind (tests assert "no extra HEAD"; benchmarks report them).
struct S3StoreStats {
  std::uint64_t requests = 0;  ///< every attempt sent
  std::uint64_t gets = 0;
  std::uint64_t heads = 0;
  std::uint64_t puts = 0;
  std::uint64_t posts = 0;
  std::uint64_t deletes = 0;
  std::uint64_t lists = 0;
  std::uint64_t retries = 0;   ///< attempts after the first
};
/// Stats of a store made by make_s3_store (zeros for other stores).
S3StoreStats s3_store_stats(const ObjectStore& store);

}  // namespace omnio
