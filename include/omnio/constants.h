// Every default in omnio, with its unit and the reason for its value. No other file holds a literal
// default; code and docs/CONFIGURATION.md refer here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace omnio {

inline constexpr std::size_t kKiB = 1024;
inline constexpr std::size_t kMiB = 1024 * kKiB;
inline constexpr std::size_t kGiB = 1024 * kMiB;

// ---- RangeEngine (seed v0.9.2 values) --------------------------------------------------------
/// Bytes per range request. Seed value: large enough that per-request overhead is < 1 %.
inline constexpr std::size_t kDefaultRangeEngineChunkSize = 64 * kMiB;
/// Ranges of ONE object in flight. Seed value for network stores.
inline constexpr std::size_t kDefaultRangeEngineMaxConcurrent = 32;
/// Timeout for one range request. Seed value.
inline constexpr std::chrono::seconds kDefaultRangeTimeout{30};
/// file:// split threshold, bytes (seed: 4 MiB). The engine is OFF by default for file:// because
/// the page cache already reads ahead sequentially; this applies when a user turns it on.
inline constexpr std::uint64_t kDefaultFileRangeEngineThreshold = 4 * kMiB;
/// direct:// split threshold, bytes (seed: 16 MiB): below it one O_DIRECT read stream is as fast.
inline constexpr std::uint64_t kDefaultDirectIoRangeEngineThreshold = 16 * kMiB;
/// direct:// preset concurrency (seed: 16, lower than network stores: each range is a disk stream).
inline constexpr std::size_t kDefaultDirectIoMaxConcurrent = 16;
/// s3:// split threshold, bytes (seed: 4 MiB: hides network latency).
inline constexpr std::uint64_t kDefaultS3RangeEngineThreshold = 4 * kMiB;
/// az:// split threshold, bytes (seed: 4 MiB).
inline constexpr std::uint64_t kDefaultAzureRangeEngineThreshold = 4 * kMiB;
/// gs:// split threshold, bytes (seed: 4 MiB).
inline constexpr std::uint64_t kDefaultGcsRangeEngineThreshold = 4 * kMiB;
/// Network stores: chunk size for ranged GETs, bytes. 8 MiB keeps 32-64 ranges in flight within
/// a few hundred MiB (aws-c-s3 uses 8 MiB parts for the same reason).
inline constexpr std::size_t kDefaultNetworkRangeChunkSize = 8 * kMiB;
/// Network stores: ranges of one object in flight (seed: 32-64 for S3/Azure/GCS).
inline constexpr std::size_t kDefaultNetworkMaxConcurrent = 32;

// ---- Local file stores -------------------------------------------------------------------------
/// Fallback O_DIRECT alignment when the block size cannot be detected, bytes (the page size on
/// x86-64 and the largest logical block size of common devices).
inline constexpr std::size_t kDefaultDirectIoAlignment = 4096;
/// Smallest and largest alignment accepted from detection, bytes (seed rule).
inline constexpr std::size_t kMinDirectIoAlignment = 512;
inline constexpr std::size_t kMaxDirectIoAlignment = 64 * kKiB;
/// high_performance() preset: min O_DIRECT I/O size, bytes (seed value).
inline constexpr std::size_t kHighPerformanceMinIoSize = 64 * kKiB;
/// Bytes per pread/pwrite system call on the simple (non-engine) paths. 8 MiB reaches the device
/// ceiling with fio on this machine class while bounding the staging buffer.
inline constexpr std::size_t kDefaultFileIoBlockSize = 8 * kMiB;
/// PageCacheMode::kAuto switches from RANDOM to SEQUENTIAL at this size, bytes (seed value).
inline constexpr std::uint64_t kPageCacheAutoSequentialThreshold = 64 * kMiB;
/// Part size for put_multipart on local stores when none is given, bytes.
inline constexpr std::size_t kDefaultLocalPartSize = 8 * kMiB;
/// Threads of the process-wide blocking-I/O pool that serves file:// and direct:// ranges. Enough
/// for two stores each running the direct:// preset's 16 ranges; threads blocked in pread cost
/// only memory.
inline constexpr std::size_t kDefaultIoThreads = 32;

// ---- Streaming writers -------------------------------------------------------------------------
/// zstd level when compression is requested without a level (zstd's own default).
inline constexpr int kDefaultZstdLevel = 3;
/// Accepted zstd levels.
inline constexpr int kMinZstdLevel = 1;
inline constexpr int kMaxZstdLevel = 22;
/// Staging buffer of the direct:// writer, bytes: writes go out in aligned blocks of this size.
inline constexpr std::size_t kDefaultWriterBufferSize = 8 * kMiB;
/// Multipart part size for network writers, bytes (S3 minimum is 5 MiB; 16 MiB is the seed value).
inline constexpr std::size_t kDefaultPartSize = 16 * kMiB;

// ---- CLI ---------------------------------------------------------------------------------------
/// Parallel objects for cp/get/put/rm (-j).
inline constexpr std::size_t kDefaultCliJobs = 32;
/// Upper bound for -j (seed: MAX_JOBS).
inline constexpr std::size_t kMaxCliJobs = 4096;
/// Progress bar redraw interval.
inline constexpr std::chrono::milliseconds kProgressInterval{200};

// ---- Logging -----------------------------------------------------------------------------------
/// Default log level name (spdlog): warnings and errors only.
inline constexpr const char* kDefaultLogLevel = "warn";

}  // namespace omnio
