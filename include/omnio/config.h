// omnio::Config: the one configuration surface. Per-backend store configs live here; later
// issues add S3Config, AzureConfig, GcsConfig, LoaderOptions and PoolConfig beside them.
#pragma once

#include <memory>

#include "omnio/azure_config.h"
#include "omnio/file_system_config.h"
#include "omnio/gcs_config.h"
#include "omnio/s3_config.h"

namespace omnio {

class OpLog;

/// Everything store_for_uri needs to build a store.
struct Config {
  /// file:// stores.
  FileSystemConfig file = FileSystemConfig::buffered();
  /// direct:// stores.
  FileSystemConfig direct = FileSystemConfig::direct_io();
  /// s3:// stores.
  S3Config s3;
  /// When set, every store store_for_uri() builds is wrapped by with_op_log() (logged_store.h), so
  /// each operation is one line of this log. Default null: no logging.
  std::shared_ptr<OpLog> op_log;
  /// gs:// (and gcs://) stores.
  GcsConfig gcs;
  /// az:// stores.
  AzureConfig azure;

  /// Validates every part; kInvalidArgument names the field ("direct.range_engine.chunk_size").
  Status validate() const;
};

}  // namespace omnio
