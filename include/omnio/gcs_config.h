// GcsConfig: how gs:// (alias gcs://) stores find their endpoint and credentials, and how they move
// bytes. Every empty field is resolved as Google's client libraries resolve it
// (docs/CONFIGURATION.md): explicit value > environment > well-known files > GCE metadata server.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "omnio/constants.h"
#include "omnio/range_engine.h"
#include "omnio/retry.h"
#include "omnio/s3_config.h"  // HttpSettings, shared by the network backends

namespace omnio {

/// How a gs:// store authenticates.
enum class GcsAuth {
  /// Resolve: anonymous for an emulator / custom endpoint, else the credentials file
  /// (GOOGLE_APPLICATION_CREDENTIALS, then gcloud's application_default_credentials.json), else
  /// the GCE metadata server.
  kAuto,
  /// No Authorization header (emulators, public buckets).
  kAnonymous,
  /// A service-account or authorized-user JSON file (credentials_file or the environment).
  kCredentialsFile,
  /// The GCE / GKE metadata server.
  kMetadataServer,
};

/// Configuration of gs:// stores.
struct GcsConfig {
  /// "http://127.0.0.1:9023"; empty = STORAGE_EMULATOR_HOST (http:// added when missing), then
  /// GCS_ENDPOINT_URL, else kGcsDefaultEndpoint. A custom endpoint means anonymous access under
  /// GcsAuth::kAuto.
  std::string endpoint;
  /// Project for bucket create/list; empty = GOOGLE_CLOUD_PROJECT, then the credentials file's
  /// project_id / quota_project_id.
  std::string project;
  GcsAuth auth = GcsAuth::kAuto;
  /// Service-account or authorized-user JSON; empty = GOOGLE_APPLICATION_CREDENTIALS, then gcloud's
  /// application_default_credentials.json (under CLOUDSDK_CONFIG or ~/.config/gcloud).
  std::string credentials_file;
  /// A ready OAuth2 access token (used as is, never refreshed); takes precedence over everything.
  std::string access_token;
  /// Transport.
  HttpSettings http;
  /// Retries of idempotent requests.
  RetryPolicy retry;
  /// Large GETs: chunk, ranges in flight, split threshold, per-range timeout.
  RangeEngineConfig range_engine = {kDefaultNetworkRangeChunkSize, kDefaultNetworkMaxConcurrent,
                                    kDefaultGcsRangeEngineThreshold, kDefaultRangeTimeout};
  /// Writes at most this large are one request (uploadType=media, or multipart with metadata),
  /// bytes; larger ones are resumable uploads.
  std::size_t single_upload_threshold = kDefaultGcsSingleUploadThreshold;
  /// Resumable upload chunk, bytes: a multiple of kGcsResumableChunkQuantum (rounded up when not).
  /// Peak memory of a streaming upload ~ 2 x this (one chunk filling, one in flight).
  std::size_t upload_chunk_size = kDefaultGcsUploadChunkSize;
  /// Verify CRC32C (from x-goog-hash) on whole-object reads.
  bool verify_crc32c = true;
  /// Single deletes in flight during delete_prefix.
  std::size_t delete_concurrency = kDefaultGcsDeleteConcurrency;
  /// Timeout of each request to the metadata server.
  std::chrono::milliseconds metadata_timeout = kDefaultGcsMetadataTimeout;

  Status validate() const;
};

}  // namespace omnio
