// AzureConfig: how az:// stores find their endpoint and credentials, and how they move bytes.
// Every field left empty is resolved from the environment (docs/CONFIGURATION.md): explicit value
// > AZURE_STORAGE_CONNECTION_STRING > AZURE_STORAGE_* variables > Entra ID variables.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "omnio/constants.h"
#include "omnio/range_engine.h"
#include "omnio/retry.h"
#include "omnio/s3_config.h"

namespace omnio {

/// Configuration of az:// stores.
struct AzureConfig {
  /// Storage account; empty = the connection string's AccountName, AZURE_STORAGE_ACCOUNT, else
  /// the account named in each URI.
  std::string account;
  /// Blob endpoint. "http://127.0.0.1:10000" (IP or localhost: path-style, the account is the
  /// first path segment) or "https://host" / "http://host:port/account" (the account's base URL).
  /// Empty = the connection string's BlobEndpoint, AZURE_STORAGE_ENDPOINT, else
  /// https://<account>.blob.core.windows.net.
  std::string endpoint;
  /// "AccountName=...;AccountKey=...;BlobEndpoint=..." (empty = AZURE_STORAGE_CONNECTION_STRING).
  std::string connection_string;
  /// Base64 account key for SharedKey signing (empty = AZURE_STORAGE_KEY).
  std::string account_key;
  /// SAS token ("sv=...&sig=...", a leading '?' is dropped; empty = AZURE_STORAGE_SAS_TOKEN).
  std::string sas_token;
  /// Entra ID client-secret credentials (empty = AZURE_TENANT_ID / AZURE_CLIENT_ID /
  /// AZURE_CLIENT_SECRET).
  std::string tenant_id;
  std::string client_id;
  std::string client_secret;
  /// Entra ID authority (empty = AZURE_AUTHORITY_HOST, else kDefaultAzureAuthorityHost).
  std::string authority_host;
  /// Transport (http.ca_bundle empty = the system store).
  HttpSettings http;
  /// Retries of idempotent requests (503 ServerBusy and 500 OperationTimedOut included).
  RetryPolicy retry;
  /// Large GETs: chunk, ranges in flight, split threshold, per-range timeout.
  RangeEngineConfig range_engine = {kDefaultNetworkRangeChunkSize, kDefaultNetworkMaxConcurrent,
                                    kDefaultAzureRangeEngineThreshold, kDefaultRangeTimeout};
  /// Staged-upload block size, bytes (nullopt = kDefaultAzureBlockSize, grown so the blob fits in
  /// 50,000 blocks when its size is known).
  std::optional<std::size_t> block_size;
  /// Blocks of one upload in flight. Peak memory of a streaming upload ~ (this + 1) x block size.
  std::size_t max_blocks_in_flight = kDefaultAzureMaxBlocksInFlight;
  /// Entries per List Blobs / List Containers page (1..kAzureListPageSize; Azure's maximum).
  std::size_t list_page_size = kAzureListPageSize;
  /// Objects written with put()/a writer at most this large use one Put Blob, bytes.
  std::size_t single_put_threshold = kDefaultAzureSinglePutThreshold;

  Status validate() const;
};

}  // namespace omnio
