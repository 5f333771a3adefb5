#include <fmt/format.h>

#include "omnio/file_system_config.h"

namespace omnio {

FileSystemConfig FileSystemConfig::buffered() { return FileSystemConfig{}; }

FileSystemConfig FileSystemConfig::direct_io() {
  FileSystemConfig c;
  c.use_direct_io = true;
  c.enable_range_engine = true;
  c.range_engine = RangeEngineConfig{kDefaultRangeEngineChunkSize, kDefaultDirectIoMaxConcurrent,
                                     kDefaultDirectIoRangeEngineThreshold, kDefaultRangeTimeout};
  return c;
}

FileSystemConfig FileSystemConfig::high_performance() {
  FileSystemConfig c = direct_io();
  c.sync_writes = true;
  c.min_io_size = kHighPerformanceMinIoSize;
  return c;
}

Status FileSystemConfig::validate() const {
  if (alignment && (!is_power_of_two(*alignment) || *alignment < kMinDirectIoAlignment ||
                    *alignment > kMaxDirectIoAlignment)) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("alignment {} must be a power of two in [{}, {}] bytes", *alignment,
                             kMinDirectIoAlignment, kMaxDirectIoAlignment));
  }
  if (io_block_size == 0) {
    return Error(ErrorCode::kInvalidArgument, "io_block_size must be > 0 bytes");
  }
  if (root.empty() || root.front() != '/') {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("root '{}' must be an absolute directory path", root));
  }
  if (enable_range_engine) {
    OMNIO_TRY(range_engine.validate());
    if (use_direct_io && range_engine.chunk_size % kMaxDirectIoAlignment != 0 &&
        range_engine.chunk_size % (alignment ? *alignment : kDefaultDirectIoAlignment) != 0) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("range_engine.chunk_size {} must be a multiple of the O_DIRECT "
                               "alignment ({} bytes)",
                               range_engine.chunk_size,
                               alignment ? *alignment : kDefaultDirectIoAlignment));
    }
  }
  return ok_status();
}

}  // namespace omnio
