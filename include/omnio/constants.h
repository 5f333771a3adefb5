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
/// file:// get_batch (ObjectStore::reads_in_batches: the DataLoader's groups of small files): at
/// most this many files per io_uring submission, each an open, a read, a one-byte read that
/// proves the end of the file, and a close. One submission instead of four system calls per file:
/// the loader read 20,000 page-cached 128 KiB files in 0.82-0.89x the time on this VM
/// (docs/BENCHMARKS.md run 26).
inline constexpr std::size_t kFileBatchReadMax = 16;
/// While a batch waits for its reads (files not in the page cache), it looks at its cancellation
/// token this often; cancelled, it cancels the reads and waits for the kernel to let go of the
/// buffers.
inline constexpr std::chrono::milliseconds kFileBatchCancelPoll{10};
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

// ---- Memory
// --------------------------------------------------------------------------------------
/// AlignedBuffers of at least this many bytes are mmap'ed pages, returned to the OS when freed.
/// Below it the heap is cheaper; above it glibc's per-thread arenas kept freed part buffers and
/// doubled the RSS of a 1 GiB multipart upload (measured: 491 MB vs the 144 MB live).
inline constexpr std::size_t kLargeBufferThreshold = 1 * kMiB;
/// The DataLoader on file:// cuts fresh item buffers of
/// kRecyclerSlabMinItem..kRecyclerSlabMaxItem bytes out of slabs of kRecyclerSlabSize: one mapping
/// on a huge-page boundary with transparent huge pages. Its window of items (128 x 128 KiB by
/// default) is more 4 KiB pages than the CPU's TLB reaches, and every item is a kernel copy into
/// one of them: 20,000 page-cached 128 KiB files loaded in 0.82-0.86x the time they took without
/// slabs (docs/BENCHMARKS.md run 27). A slab is freed with the last buffer cut from it, and is not
/// charged to the memory budget (the budget does not charge buffers of these sizes).
inline constexpr std::size_t kRecyclerSlabSize = 2 * kMiB;
inline constexpr std::size_t kRecyclerSlabMinItem = 32 * kKiB;
inline constexpr std::size_t kRecyclerSlabMaxItem = 512 * kKiB;
static_assert(kRecyclerSlabMaxItem < kLargeBufferThreshold);
/// Network stores' get_with_buffer (the DataLoader's reads of objects whose size it does not
/// know: plain URI lists): the first range GET, which learns the size, reads at most this much into
/// a heap buffer below kLargeBufferThreshold, so it never waits for the memory budget out of the
/// caller's order; the rest goes straight into the caller's buffer. An object larger than this
/// takes one more request than get() (whose first range is the chunk size).
inline constexpr std::size_t kBufferSourceProbeSize = 512 * 1024;
static_assert(kBufferSourceProbeSize < kLargeBufferThreshold);
/// The process-wide memory budget (MemoryBudget) is this fraction of the memory the process may
/// use (physical memory, or the cgroup limit when lower) unless OMNIO_MEMORY_BUDGET says otherwise.
/// Half leaves room for the application (a training job's model and tensors) and the page cache.
inline constexpr double kDefaultMemoryBudgetFraction = 0.5;
/// Smallest budget accepted: one 64 MiB RangeEngine chunk (the seed's range size) must fit.
inline constexpr std::uint64_t kMinMemoryBudget = 64 * kMiB;
/// A reservation that has waited this long logs a warning (and again after each further period),
/// so a program held back by the budget says so instead of looking hung.
inline constexpr std::chrono::seconds kMemoryBudgetWarnAfter{10};
/// Memory outside the budget: the heap of small objects, libcurl's per-connection buffers, thread
/// stacks and the code itself. Peak RSS stays within budget + this
/// (tests/s3/test_memory_budget.cc).
inline constexpr std::uint64_t kMemoryBudgetOverhead = 96 * kMiB;
/// RangeEngine reserves each range buffer rounded up to this (the page size): it covers the
/// alignment of network (4 KiB) and O_DIRECT (512 B / 4 KiB) buffers, so no top-up is needed.
inline constexpr std::size_t kRangeBufferBudgetAlignment = 4 * kKiB;

// ---- DataLoader ---------------------------------------------------------------------------------
/// Items per batch (PyTorch's DataLoader default is 1; 32 is the common training value).
inline constexpr std::size_t kDefaultLoaderBatchSize = 32;
/// Item requests in flight. 32 keeps local NVMe and object stores busy without a thread storm;
/// each in-flight request is one blocked worker thread.
inline constexpr std::size_t kDefaultLoaderPoolSize = 32;
/// Batches fetched ahead of the consumer; with pool_size this bounds memory:
/// at most readahead_batches x batch_size items are held (in flight or ready).
inline constexpr std::size_t kDefaultLoaderReadaheadBatches = 4;
/// Per-item request timeout, milliseconds (0 = none): a stalled request is cancelled and retried.
inline constexpr std::int64_t kDefaultLoaderRequestTimeoutMs = 60'000;
/// Attempts per item (first try included) for transient failures.
inline constexpr int kDefaultLoaderAttempts = 3;
/// Upper bound on pool_size: each in-flight request holds one thread.
inline constexpr std::size_t kMaxLoaderPoolSize = 1024;
/// PoolConfig::limit_when_cpu_bound default: while the loader's reads finish without the worker
/// sleeping (page-cache hits: each read is a memory copy), more readers than CPUs only queue for
/// them, so fewer read at once (kLoaderCpuBoundWorkersPerCpu per CPU).
inline constexpr bool kDefaultLoaderLimitWhenCpuBound = true;
/// Workers per CPU (of those this process may run on) that read at once while reads are
/// CPU-bound. 1: on 2 vCPUs, 20,000 page-cached 128 KiB items loaded in 0.48 s with pool 32 capped
/// to 2 readers against 0.59 s with all 32 reading (docs/BENCHMARKS.md, runs 9-10).
inline constexpr std::size_t kLoaderCpuBoundWorkersPerCpu = 1;

// ---- Network stores ----------------------------------------------------------------------------
/// libcurl event-loop threads per store. One loop moves ~2 GB/s on loopback; two let TLS and
/// checksum work of different transfers overlap on a 2-core machine.
inline constexpr std::size_t kDefaultHttpEventLoops = 2;
/// TCP + TLS connect timeout: fail fast on a dead endpoint (awscli uses 60 s; 10 s is ample on a
/// LAN or in-region).
inline constexpr std::chrono::milliseconds kDefaultConnectTimeout{10000};
/// A transfer receiving < 1 byte/s for this long is a stall. Generous: a busy server may pause.
inline constexpr std::chrono::seconds kDefaultStallTimeout{30};
/// Region when none is configured anywhere (the AWS CLI's fallback for S3).
inline constexpr const char* kDefaultS3Region = "us-east-1";
/// Parts of one multipart upload in flight (permit taken before a part is dispatched). 8 x 16 MiB
/// = 128 MiB per upload saturates a 10 Gb/s link at ~100 ms per part.
inline constexpr std::size_t kDefaultS3MaxPartsInFlight = 8;
/// S3 writes send x-amz-checksum-crc32c (PUT and each part; multipart uploads are created with
/// x-amz-checksum-algorithm CRC32C and completed with each part's checksum). Servers without
/// checksum support ignore the header (Ceph before Reef); turn off for one that rejects it
/// (S3Config::checksum_crc32c).
inline constexpr bool kDefaultS3ChecksumCrc32c = true;
/// Writes up to this size are one PUT, bytes; larger ones are multipart (equal to the part size:
/// a multipart upload of a single part only adds two round trips).
inline constexpr std::size_t kDefaultS3MultipartThreshold = 16 * kMiB;
/// S3 limits: parts are 5 MiB..5 GiB (the last may be smaller), at most 10,000 per upload, objects
/// at most 5 TiB; one PUT/CopyObject at most 5 GiB; DeleteObjects takes at most 1,000 keys.
inline constexpr std::size_t kS3MinPartSize = 5 * kMiB;
inline constexpr std::size_t kS3MaxPartSize = 5 * kGiB;
inline constexpr std::size_t kS3MaxParts = 10000;
inline constexpr std::uint64_t kS3MaxObjectSize = 5ULL * 1024 * kGiB;
inline constexpr std::uint64_t kS3MaxSinglePutSize = 5 * kGiB;
inline constexpr std::size_t kS3MaxDeleteBatch = 1000;
/// Keys per ListObjectsV2 page (max-keys): S3's maximum, and S3Config::list_page_size's default.
inline constexpr std::size_t kS3ListPageSize = 1000;
/// DeleteObjects batches in flight during delete_prefix.
inline constexpr std::size_t kDefaultS3DeleteConcurrency = 4;
/// Part size of server-side multipart copies, bytes (objects above kS3MaxSinglePutSize).
inline constexpr std::size_t kDefaultS3CopyPartSize = 512 * kMiB;
/// Retry budget per endpoint (AWS SDK "standard" mode): a retry costs kRetryCost tokens (a
/// timeout kRetryTimeoutCost), a success refunds kRetrySuccessRefund, and no retry is made while
/// the bucket is empty, so a dead or overloaded endpoint is not hammered by every caller at once.
inline constexpr int kRetryBudgetTokens = 500;
inline constexpr int kRetryCost = 5;
inline constexpr int kRetryTimeoutCost = 10;
inline constexpr int kRetrySuccessRefund = 1;

// ---- Operability: ramped start, throttling (issue 7) ------------------------------------------
/// Ramped start: transfers per HTTP event loop that may be waiting for a NEW connection at once
/// (2 loops = 64). 1,000 simultaneous first requests would otherwise send 1,000 SYNs in the same
/// instant, overflow a server's accept backlog (commonly 128-511) and turn into SYN retransmits
/// of 1 s, 3 s, 7 s that trip connect timeouts. Requests on reused connections pass at once.
inline constexpr std::size_t kDefaultMaxConnectingPerLoop = 32;
/// Throttling answers (503 SlowDown / ServerBusy, 429) back off from base_delay x this factor
/// (100 ms -> 500 ms, the AWS SDKs' throttling base), still capped by RetryPolicy::max_delay;
/// a Retry-After hint wins when it is longer.
inline constexpr int kThrottleBackoffFactor = 5;
/// Retry-budget tokens of a retry after throttling: the server is pacing us (and the backoff is
/// already longer), so a throttled burst of many requests converges instead of draining the
/// per-endpoint budget that protects a failing endpoint from retry storms (kRetryCost).
inline constexpr int kRetryThrottleCost = 1;

// ---- gs:// (Google Cloud Storage JSON API) ------------------------------------------------------
/// The service's JSON API endpoint (requests go to /storage/v1 and /upload/storage/v1 under it).
inline constexpr const char* kGcsDefaultEndpoint = "https://storage.googleapis.com";
/// OAuth2 token endpoint for authorized-user (refresh token) credentials.
inline constexpr const char* kGcsDefaultTokenUri = "https://oauth2.googleapis.com/token";
/// Metadata server host on GCE/GKE (GCE_METADATA_HOST overrides it).
inline constexpr const char* kGcsMetadataHost = "metadata.google.internal";
/// OAuth2 scope requested for service accounts: read, write, buckets (what the CLI needs).
inline constexpr const char* kGcsOAuthScope =
    "https://www.googleapis.com/auth/devstorage.full_control";
/// Resumable upload chunks must be multiples of this, bytes (GCS rule).
inline constexpr std::size_t kGcsResumableChunkQuantum = 256 * kKiB;
/// Resumable chunk size, bytes: 16 MiB = 64 quanta, the S3 part size (same per-request overhead
/// of < 1 %); google-cloud-cpp defaults to 8 MiB.
inline constexpr std::size_t kDefaultGcsUploadChunkSize = 16 * kMiB;
/// Writes up to this size are one upload request, bytes (a resumable session costs an extra
/// round trip; equal to the chunk size as for S3).
inline constexpr std::size_t kDefaultGcsSingleUploadThreshold = 16 * kMiB;
/// Single-object deletes in flight during delete_prefix (GCS has no batch delete in the JSON API
/// without multipart/mixed batches; the original used 16-64 concurrent deletes).
inline constexpr std::size_t kDefaultGcsDeleteConcurrency = 32;
/// Objects per list page (the service's maximum).
inline constexpr std::size_t kGcsListPageSize = 1000;
/// Metadata-server request timeout: short, so a machine off GCE fails over in well under a second
/// (google-cloud-cpp's ADC probe uses 1 s as well).
inline constexpr std::chrono::milliseconds kDefaultGcsMetadataTimeout{1000};
/// Lifetime requested for a service-account JWT assertion (the service's maximum: 1 hour).
inline constexpr std::chrono::seconds kGcsJwtLifetime{3600};
/// A cached access token is refreshed this long before it expires (google-cloud-cpp: 5 min), so
/// no request goes out with a token about to expire.
inline constexpr std::chrono::seconds kGcsTokenRefreshMargin{300};
/// Calls of one copy (rewrite) before giving up: each call moves up to ~1 GiB server-side on the
/// real service, so 10,000 covers the 5 TiB object limit.
inline constexpr int kGcsMaxRewriteCalls = 10000;
// ---- Azure Blob (az://) -------------------------------------------------------------------------
/// x-ms-version sent on every request: a version Azure and Azurite 3.35 both serve.
inline constexpr const char* kAzureApiVersion = "2023-11-03";
/// Block size of staged uploads, bytes (the seed's network part size; Azure allows 4,000 MiB).
inline constexpr std::size_t kDefaultAzureBlockSize = 16 * kMiB;
/// Blocks of one staged upload in flight (permit taken before a block is sent): same memory bound
/// as S3's parts, 8 x 16 MiB = 128 MiB per upload.
inline constexpr std::size_t kDefaultAzureMaxBlocksInFlight = 8;
/// Writes up to this size are one Put Blob, bytes; larger ones are staged (Put Block + Put Block
/// List). Equal to the block size: a one-block staged upload only adds a round trip.
inline constexpr std::size_t kDefaultAzureSinglePutThreshold = 16 * kMiB;
/// Azure limits: blocks are at most 4,000 MiB, at most 50,000 per blob; one Put Blob at most
/// 5,000 MiB; a List Blobs page at most 5,000 entries.
inline constexpr std::size_t kAzureMinBlockSize = 1;
inline constexpr std::size_t kAzureMaxBlockSize = 4000 * kMiB;
inline constexpr std::size_t kAzureMaxBlocks = 50000;
inline constexpr std::uint64_t kAzureMaxSinglePutSize = 5000ULL * kMiB;
inline constexpr std::size_t kAzureListPageSize = 5000;
/// Delete Blob requests in flight during delete_prefix (concurrent single deletes: each failure is
/// reported on its own; 16 hide a ~1 ms round trip on a LAN).
inline constexpr std::size_t kDefaultAzureDeleteConcurrency = 16;
/// Entra ID tokens are refreshed this long before they expire (the Azure SDKs use 5 minutes).
inline constexpr std::chrono::seconds kAzureTokenRefreshMargin{300};
/// Entra ID authority when none is configured (public cloud).
inline constexpr const char* kDefaultAzureAuthorityHost = "https://login.microsoftonline.com";
/// Block ids are base64 of this many decimal digits: fixed width, as Put Block List requires.
inline constexpr std::size_t kAzureBlockIdDigits = 6;

// ---- Local file stores -------------------------------------------------------------------------
/// Fallback O_DIRECT alignment when the block size cannot be detected, bytes (the page size on
/// x86-64 and the largest logical block size of common devices).
inline constexpr std::size_t kDefaultDirectIoAlignment = 4096;
/// Smallest and largest alignment accepted from detection, bytes (seed rule).
inline constexpr std::size_t kMinDirectIoAlignment = 512;
inline constexpr std::size_t kMaxDirectIoAlignment = 64 * kKiB;
/// high_performance() preset: min O_DIRECT I/O size, bytes (seed value).
inline constexpr std::size_t kHighPerformanceMinIoSize = 64 * kKiB;
/// Bytes per pread/pwrite system call on every local path (a RangeEngine range is read as a run of
/// such calls). Measured with fio and omnio on this machine class (docs/BENCHMARKS.md): O_DIRECT
/// reads at 1 MiB beat 4-64 MiB requests by 20-40 %, and warm page-cache reads are ~8 % faster at
/// 1 MiB than at 8 MiB; O_DIRECT writes are within noise of 8 MiB.
inline constexpr std::size_t kDefaultFileIoBlockSize = 1 * kMiB;
/// PageCacheMode::kAuto switches from RANDOM to SEQUENTIAL at this size, bytes (seed value).
inline constexpr std::uint64_t kPageCacheAutoSequentialThreshold = 64 * kMiB;
/// Part size for put_multipart on local stores when none is given, bytes.
inline constexpr std::size_t kDefaultLocalPartSize = 8 * kMiB;
/// A directory listing stats its entries (for their sizes) on this many threads when it has at
/// least kLocalListParallelStatMin entries to stat: a stat is ~2 us of system call here, and a
/// 20,000-file data set listed on one thread kept the loader's start waiting ~60 ms
/// (docs/BENCHMARKS.md, run 14).
inline constexpr std::size_t kLocalListStatThreads = 4;
inline constexpr std::size_t kLocalListParallelStatMin = 2048;
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

// ---- Data generation ---------------------------------------------------------------------------
/// Dedup unit of the data generator, bytes. 1 MiB: s3dlio HEAD's default (results stay comparable),
/// and at least the chunk size of common dedup engines (4 KiB-1 MiB), so any aligned power-of-two
/// chunking from 4 KiB up to the block size sees exactly the requested dedup ratio.
inline constexpr std::size_t kDataGenBlockSize = 1 * kMiB;
/// Granularity of the compressible layout, bytes: every 4 KiB segment holds its share of random
/// bytes, so no aligned 4 KiB chunk is all zeros (no spurious dedup, no sparse holes), while
/// zstd's few bytes per zero run stay < 1 % of the output at compress factor 8.
inline constexpr std::size_t kDataGenSegmentSize = 4 * kKiB;
/// Accepted block sizes, bytes (multiples of kDataGenSegmentSize). A block costs no memory; past
/// 1 GiB dedup would need objects of several GiB to show at all.
inline constexpr std::size_t kMinDataGenBlockSize = kDataGenSegmentSize;
inline constexpr std::size_t kMaxDataGenBlockSize = 1 * kGiB;
/// Largest compress factor. At 64 a segment keeps 64 random bytes and zstd -3 reaches 61.2 (-4.4 %;
/// -0.8 % at 8); beyond it the per-run overhead grows and the ratio would stop meaning the factor.
inline constexpr std::size_t kMaxDataGenCompressFactor = 64;
/// Smallest share of one fill handed to an extra thread, bytes. Starting and joining a std::jthread
/// costs ~10 us, < 4 % of the ~0.27 ms one core needs for 4 MiB (measured on the 2-core bench VM).
inline constexpr std::size_t kDataGenMinBytesPerThread = 4 * kMiB;
/// Fills of at least this many bytes into existing memory use streaming (non-temporal) stores on
/// x86-64: 14.4 vs 8.4 GB/s into a 1 GiB buffer on the bench VM. Smaller fills keep regular stores
/// so the bytes are still in cache when the caller writes or checksums them; 32 MiB exceeds any
/// core's L2 and most servers' per-core L3 share.
inline constexpr std::size_t kDataGenStreamingStoreThreshold = 32 * kMiB;
/// generate() buffers of at least this many bytes are aligned to kDataGenHugePageSize and
/// madvise(MADV_HUGEPAGE)d: 2x faster first touch (bench: 4.7 vs 2.4 GB/s per thread), at most one
/// partly used huge page (< 7 % here) wasted.
inline constexpr std::size_t kDataGenHugePageThreshold = 32 * kMiB;
/// Transparent huge page size, bytes (x86-64 and 4 KiB-page arm64 PMD size).
inline constexpr std::size_t kDataGenHugePageSize = 2 * kMiB;
/// Alignment of generate()'s buffer, bytes: the page size, so direct:// writes it without a bounce
/// copy at the common 4 KiB alignment and each thread first-touches whole pages.
inline constexpr std::size_t kDataGenBufferAlignment = 4 * kKiB;

// ---- Operation log and replay ------------------------------------------------------------------
/// Records the op-log queue holds before producers wait, entries (~80 B plus the URI each: about
/// 2.5 MiB). 100,000 small file:// GETs (~5 us each) fill it in ~80 ms, well above the writer's
/// flush interval, so drops need a writer stalled that long (the original dropped at 256 entries).
inline constexpr std::size_t kDefaultOpLogQueueCapacity = 16384;
/// How long a producer waits for queue space before counting the record as dropped (default,
/// non-lossless mode). Long enough to ride out one slow write(2), short enough that a stuck log
/// disk cannot stall the I/O being measured.
inline constexpr std::chrono::milliseconds kDefaultOpLogBlockTimeout{10};
/// The writer thread wakes at least this often to write what is queued (it is also woken when the
/// queue is 1/kOpLogWakeDivisor full). Bounds how stale a log on disk is while a run is going.
inline constexpr std::chrono::milliseconds kOpLogFlushInterval{50};
/// The writer takes the queue once it holds capacity / this many records (1,024 by default). The
/// queue's two buffers then stay ~150 KiB each: woken at half full, they grew to ~1.3 MiB, and the
/// GET thread paid ~600 first-touch page faults per log (~0.8 points of the op-log overhead of
/// 100,000 small GETs, docs/BENCHMARKS.md). The queue still holds capacity records before a
/// producer waits.
inline constexpr std::size_t kOpLogWakeDivisor = 16;
/// zstd level of `.zst` op-logs: level 1 (with kOpLogZstdHashLog) compresses TSV lines ~8-9:1 at
/// ~0.2 us a line, so the writer stays far ahead of any op rate (the original also used 1).
inline constexpr int kDefaultOpLogZstdLevel = 1;
/// zstd parameters of op-logs at levels up to kOpLogZstdTunedUpTo: a 1 KiB-entry hash table and a
/// 128 KiB window instead of the level's defaults (16 KiB hash at level 1, 512 KiB window). An
/// op-log line repeats the lines just before it, so the small table finds the same matches and
/// stays in L1: measured on 100,000 logged GETs, level 1 went from 7.6:1 at ~705 MB/s to 8.8:1 at
/// ~940 MB/s (and level -2 from 4.9:1 to 5.0:1, level 3 from 6.5:1 to 7.5:1 at 1.6x the speed).
inline constexpr int kOpLogZstdHashLog = 10;
inline constexpr int kOpLogZstdWindowLog = 17;
inline constexpr int kOpLogZstdTunedUpTo = 3;
/// Lowest op-log zstd level: zstd's fast levels (negative, `zstd --fast=N`) trade ratio for speed.
inline constexpr int kMinOpLogZstdLevel = -7;
/// Bytes the writer collects before a write(2).
inline constexpr std::size_t kOpLogWriteBufferSize = 256 * kKiB;
/// After SIGINT/SIGTERM the CLI waits this long for the command to stop by itself, then finishes
/// the op-log and exits 130 anyway (a command blocked in read(2) on stdin never returns).
inline constexpr std::chrono::milliseconds kCliInterruptGrace{2000};
/// Replay: operations in flight at once (worker threads; the dispatcher never holds more than
/// this many scheduled operations). Local and network stores alike keep 64 requests busy.
inline constexpr std::size_t kDefaultReplayConcurrency = 64;
/// Replay: log lines read ahead and re-sorted by start time, entries. Logs are written in
/// completion order, so a line may start earlier than lines before it by up to the longest
/// operation's duration; 16,384 lines cover that at 100k ops/s for 160 ms. A line that still
/// arrives after its slot is started at once and its lateness counted as drift.
inline constexpr std::size_t kDefaultReplayReorderWindow = 16384;
/// Replay: PUTs up to this size are generated in one buffer and put(); larger ones stream through a
/// writer in chunks of this size, so memory stays concurrency x this, bytes.
inline constexpr std::size_t kReplayPutChunkSize = 1 * kMiB;
// ---- Object formats and workloads ------------------------------------------------------------
/// Largest samples (npz arrays, tfrecord records) per object: the layout keeps ~3 small pieces per
/// sample in memory (~100 B each), so 1 Mi samples cost ~300 MB at most; DLIO files hold far fewer.
inline constexpr std::uint64_t kMaxFormatSamples = 1ull << 20;
/// Scratch buffer of a streamed npz's checksum pass, bytes: the data generator's block size, large
/// enough that per-call overhead vanishes, small enough to stay in L2.
inline constexpr std::size_t kFormatScratchSize = 1 * kMiB;
/// `omnio put -n`: objects up to this size are generated whole into a reused buffer and written
/// with one put (one S3 PUT: equal to kDefaultS3MultipartThreshold); larger ones stream through a
/// writer in kWorkloadStreamChunkSize pieces, so memory stays jobs x this even for 1 GiB objects.
inline constexpr std::uint64_t kWorkloadWholeObjectMaxSize = 16 * kMiB;
/// Chunk of a streamed workload object, bytes: the direct:// writer's staging size
/// (kDefaultWriterBufferSize), so each chunk becomes one aligned write.
inline constexpr std::size_t kWorkloadStreamChunkSize = 8 * kMiB;
/// Object name template of `omnio put -n` without --template: {} = object index, {} = count; the
/// extension follows the format (".dat" for raw). The original's default name.
inline constexpr const char* kDefaultWorkloadTemplate = "object_{}_of_{}";

// ---- CLI habits and manifest datasets (issue 7) ----------------------------------------------
/// Deletes in flight of ObjectStore::delete_objects' default (one request per object: az://,
/// gs://, local): the S3 batch concurrency x a few, enough to hide a round trip on a 2-core host.
inline constexpr std::size_t kDefaultDeleteObjectsJobs = 16;
/// Objects deleted per page of a streamed delete_prefix_report: kS3MaxDeleteBatch x
/// kDefaultS3DeleteConcurrency, so one page keeps every S3 DeleteObjects slot busy while memory
/// stays one page of URIs whatever the count.
inline constexpr std::size_t kDeletePageSize = 4000;
/// Objects a streamed batch (run_streamed: `cp -r`, `get --discard` over a prefix or key list)
/// holds queued between the listing and its workers. At ~150 B per queued URI this is under
/// 1 MiB whatever the object count, and several listing pages deep so workers never starve.
inline constexpr std::size_t kBatchQueueItems = 4096;
/// Key-list (manifest) lines longer than this are an error naming the line, bytes: S3 keys are at
/// most 1,024 bytes, so anything this long is not a key list (a binary file given by mistake).
inline constexpr std::size_t kMaxKeyListLineBytes = 64 * kKiB;
/// Read buffer of the resume check's content hash of a local file, bytes.
inline constexpr std::size_t kResumeHashBlockSize = 1 * kMiB;

}  // namespace omnio
