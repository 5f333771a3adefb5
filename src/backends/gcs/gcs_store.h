// gs:// store (alias gcs://): Google Cloud Storage through its JSON API over the shared HTTP engine
// (src/http), with ranged GETs through the RangeEngine (the first range learns the size and the
// generation, later ranges are pinned to that generation), resumable uploads in bounded memory,
// every list page, and concurrent deletes that report every failure.
#pragma once

#include <cstdint>
#include <memory>

#include "omnio/gcs_config.h"
#include "omnio/object_store.h"

namespace omnio {

Result<std::shared_ptr<ObjectStore>> make_gcs_store(const GcsConfig& config);

/// Requests a gs:// store sent, by kind (tests assert "no extra metadata GET"; benchmarks report).
struct GcsStoreStats {
  std::uint64_t requests = 0;  ///< every attempt sent
  std::uint64_t media_gets = 0;
  std::uint64_t metadata_gets = 0;
  std::uint64_t uploads = 0;  ///< single-request uploads and resumable chunks
  std::uint64_t deletes = 0;
  std::uint64_t lists = 0;
  std::uint64_t retries = 0;  ///< attempts after the first
};
/// Stats of a store made by make_gcs_store (zeros for other stores).
GcsStoreStats gcs_store_stats(const ObjectStore& store);

}  // namespace omnio
