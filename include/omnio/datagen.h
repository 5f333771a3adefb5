// Synthetic data for storage benchmarks: exact size, a chosen dedup ratio and zstd compression
// ratio, independent high-entropy blocks (never a shared template), reproducible from a seed, and
// identical whether produced in one shot or streamed in chunks of any size.
//
// The bytes are a pure function of (seed, object_index, size, dedup_factor, compress_factor,
// block_size) and the byte position; docs/ARCHITECTURE.md ("Data generation") gives the rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "omnio/bytes.h"
#include "omnio/constants.h"
#include "omnio/result.h"

namespace omnio {

/// What to generate.
///
/// Dedup: the object is cut into blocks of `block_size` bytes (the last one may be short); block i
/// belongs to class i % unique, unique = max(1, round_half_up(nblocks / dedup_factor)). Blocks of
/// one class are byte-identical; blocks of different classes (or of different objects) share
/// nothing, so the dedup ratio is nblocks / unique (a short last block is never a duplicate; an
/// object of one block cannot dedup).
///
/// Compression: each 4 KiB segment (kDataGenSegmentSize) of a block is keystream bytes followed by
/// zeros; the first x bytes of a block hold floor(x * (c - 1) / c) zeros in total, so every segment
/// (and a short one at the end of a small object) is about 1/c random. zstd -3 then compresses by c
/// within 1 % for c <= 8, while no aligned 4 KiB chunk is all zeros and none repeats except by
/// dedup.
struct DataGenOptions {
  /// Bytes to produce, exactly (0 allowed). Default 0.
  std::uint64_t size = 0;
  /// Target dedup ratio nblocks / unique blocks; 1 = every block unique. Default 1.
  std::size_t dedup_factor = 1;
  /// Target compression ratio; 1 = incompressible. 1..kMaxDataGenCompressFactor. Default 1.
  std::size_t compress_factor = 1;
  /// Seed for reproducible bytes; absent = fresh entropy (random_seed()) per generate() call or
  /// per DataGenerator. Default absent.
  std::optional<std::uint64_t> seed;
  /// Distinguishes objects generated from one seed: different indexes share no block. Default 0.
  std::uint64_t object_index = 0;
  /// Dedup unit, bytes: a multiple of kDataGenSegmentSize in [kMinDataGenBlockSize,
  /// kMaxDataGenBlockSize]. Default kDataGenBlockSize (1 MiB).
  std::size_t block_size = kDataGenBlockSize;
  /// Threads for one fill (the caller's plus started std::jthreads); absent = auto = hardware
  /// threads. Either way at most one per kDataGenMinBytesPerThread bytes of the fill, so small
  /// fills stay on the calling thread. Never changes the bytes.
  std::optional<std::size_t> threads;

  /// kInvalidArgument naming the offending field ("datagen: dedup_factor must be >= 1").
  Status validate() const;
};

/// A fresh 64-bit seed from the kernel's CSPRNG (getrandom) mixed with a process-wide counter and
/// the clock: two calls in one process never collide in practice, even if getrandom fails.
std::uint64_t random_seed();

/// Generates options.size bytes in one new page-aligned buffer (huge-page backed from
/// kDataGenHugePageThreshold), filled in place, in parallel when large enough; no copy. Without a
/// seed each call draws a fresh one: to reproduce a run, draw random_seed() once, log it, and vary
/// object_index. First-touch page faults bound its speed; loops over many objects go faster with
/// generate_into() on a reused buffer. kInvalidArgument for bad options, kResourceExhausted if the
/// buffer cannot be allocated.
Result<Bytes> generate(const DataGenOptions& options);

/// Fills caller memory with exactly the bytes generate(options) would return;
/// dest.size() must equal options.size (kInvalidArgument otherwise). Meant for reused buffers:
/// fills of kDataGenStreamingStoreThreshold bytes or more bypass the cache (streaming stores).
Status generate_into(const DataGenOptions& options, std::span<std::byte> dest);

/// Streaming form: successive fill() calls produce the same bytes as generate() with the same
/// seed, whatever the chunk sizes. Unseeded generators draw their seed once at creation, so reset()
/// replays the same bytes; seed() reports it for reproduction. Not thread-safe (one per stream).
class DataGenerator {
 public:
  /// Validates options (kInvalidArgument naming the field) and resolves the seed.
  static Result<DataGenerator> create(const DataGenOptions& options);

  /// Fills the next min(dest.size(), remaining()) bytes of dest and returns that count (0 at the
  /// end). Cannot fail today; the Result leaves room for cancellation without an API change.
  Result<std::size_t> fill(std::span<std::byte> dest);

  /// Bytes still to produce.
  std::uint64_t remaining() const { return size_ - position_; }
  /// Bytes produced so far.
  std::uint64_t position() const { return position_; }
  /// Total bytes of the stream (options.size).
  std::uint64_t size() const { return size_; }
  /// The seed in use (the given one, or the one drawn at creation).
  std::uint64_t seed() const { return seed_; }
  /// Restarts the stream at byte 0; the bytes repeat exactly.
  void reset() { position_ = 0; }

 private:
  DataGenerator() = default;

  DataGenOptions options_;
  std::uint64_t size_ = 0;
  std::uint64_t position_ = 0;
  std::uint64_t seed_ = 0;
};

}  // namespace omnio
