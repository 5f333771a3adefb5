// FileSystemConfig: how file:// and direct:// stores do I/O (O_DIRECT, alignment, page-cache
// hints, RangeEngine). Presets keep the seed's names: direct_io() and high_performance().
//
// Performance note (seed): range parallelism is usually counterproductive on local buffered files
// (the page cache already reads ahead sequentially), so the engine is off for file://. O_DIRECT
// bypasses the page cache; there a few concurrent ranges keep the device queue full.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "omnio/constants.h"
#include "omnio/range_engine.h"

namespace omnio {

/// posix_fadvise hint applied when a file is opened for reading.
enum class PageCacheMode {
  kAuto,        ///< SEQUENTIAL for files >= kPageCacheAutoSequentialThreshold, else RANDOM.
  kSequential,  ///< POSIX_FADV_SEQUENTIAL: aggressive read-ahead.
  kRandom,      ///< POSIX_FADV_RANDOM: no read-ahead.
  kDontNeed,    ///< POSIX_FADV_DONTNEED after reading: do not keep the data cached.
  kNormal,      ///< No hint.
};

/// Configuration of a local file store.
struct FileSystemConfig {
  /// Open files with O_DIRECT (bypass the page cache). (Named use_direct_io because C++ cannot
  /// have a field and the seed's preset function direct_io() under one name.)
  bool use_direct_io = false;
  /// O_DIRECT alignment in bytes; nullopt = detect (logical block size of the file system's device,
  /// then page size; power of two in [kMinDirectIoAlignment, kMaxDirectIoAlignment]).
  std::optional<std::size_t> alignment;
  /// Files smaller than this are read and written without O_DIRECT, bytes; nullopt = alignment.
  std::optional<std::size_t> min_io_size;
  /// Open for writing with O_DSYNC and fsync before a put returns.
  bool sync_writes = false;
  /// Route whole-object gets >= range_engine.min_split_size through the RangeEngine.
  bool enable_range_engine = false;
  /// RangeEngine settings used when enable_range_engine is set.
  RangeEngineConfig range_engine = {kDefaultRangeEngineChunkSize, kDefaultRangeEngineMaxConcurrent,
                                    kDefaultFileRangeEngineThreshold, kDefaultRangeTimeout};
  /// Page-cache hint for reads.
  PageCacheMode page_cache_mode = PageCacheMode::kAuto;
  /// Bytes per pread/pwrite on the simple paths.
  std::size_t io_block_size = kDefaultFileIoBlockSize;
  /// When O_DIRECT is refused by the file system (EINVAL, e.g. older tmpfs): true = use buffered
  /// I/O for that file, warn once and count it in fallback_count(); false = fail with
  /// kInvalidArgument.
  bool allow_buffered_fallback = true;
  /// Keys must stay under this directory ("/" = anywhere). '..' components are always refused.
  std::string root = "/";

  /// Buffered file:// defaults: no O_DIRECT, RangeEngine off.
  static FileSystemConfig buffered();
  /// The seed's direct:// preset: O_DIRECT, RangeEngine on (64 MiB chunks, 16 concurrent, 16 MiB
  /// threshold, 30 s).
  static FileSystemConfig direct_io();
  /// direct_io() plus durable writes (sync_writes) and 64 KiB min_io_size (seed preset).
  static FileSystemConfig high_performance();

  /// kInvalidArgument naming the field when a value is unusable.
  Status validate() const;
};

}  // namespace omnio
