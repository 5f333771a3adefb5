// az:// store: Azure Blob Storage over the shared HTTP engine (src/http), authenticated with
// SharedKey, a SAS token or an Entra ID token, with ranged GETs through the RangeEngine (no extra
// Get Blob Properties on the read path) and bounded staged uploads (Put Block + Put Block List).
#pragma once

#include <cstdint>
#include <memory>

#include "omnio/azure_config.h"
#include "omnio/object_store.h"

namespace omnio {

Result<std::shared_ptr<ObjectStore>> make_azure_store(const AzureConfig& config);

/// Requests an az:// store sent, by kind (tests assert "no extra properties request").
struct AzureStoreStats {
  std::uint64_t requests = 0;  ///< every attempt sent
  std::uint64_t gets = 0;      ///< Get Blob (ranged or not)
  std::uint64_t heads = 0;     ///< Get Blob Properties
  std::uint64_t puts = 0;      ///< Put Blob, Put Block, Put Block List, Copy Blob, containers
  std::uint64_t deletes = 0;
  std::uint64_t lists = 0;
  std::uint64_t retries = 0;  ///< attempts after the first
};
/// Stats of a store made by make_azure_store (zeros for other stores).
AzureStoreStats azure_store_stats(const ObjectStore& store);

}  // namespace omnio
