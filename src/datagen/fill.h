// The data generator's kernel: the byte at any position of an object is a pure function of the
// object's Layout and that position, so one-shot, parallel and streaming fills agree by
// construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "omnio/datagen.h"

namespace omnio::datagen_internal {

/// Everything the bytes depend on, resolved from validated options and a seed.
struct Layout {
  std::uint64_t size = 0;        ///< object size, bytes
  std::uint64_t block_size = 0;  ///< dedup unit, bytes
  std::uint64_t unique = 1;      ///< dedup classes: block i uses class i % unique
  std::uint64_t compress = 1;    ///< compress factor
  std::uint64_t object_key = 0;  ///< hash of (seed, object_index)
};

/// Number of dedup classes: max(1, round_half_up(nblocks / dedup)).
std::uint64_t dedup_classes(std::uint64_t nblocks, std::uint64_t dedup);

/// The Layout of `options` (already validated) with the resolved `seed`.
Layout make_layout(const DataGenOptions& options, std::uint64_t seed);

/// Threads to use for a fill of `bytes` bytes under the `threads` option (>= 1).
std::size_t plan_threads(const std::optional<std::size_t>& threads, std::uint64_t bytes);

/// How a fill writes memory.
enum class Stores {
  kCached,     ///< regular stores: the bytes stay in cache for whoever reads them next
  kStreaming,  ///< non-temporal stores (x86-64; elsewhere regular): no read-for-ownership
};

/// kStreaming for a fill of at least kDataGenStreamingStoreThreshold bytes into memory that has
/// been touched before; callers filling fresh allocations use kCached.
Stores stores_for(std::size_t bytes);

/// Writes bytes [pos, pos + out.size()) of the object; pos + out.size() <= layout.size.
void fill_range(const Layout& layout, std::uint64_t pos, std::span<std::byte> out, Stores stores);

/// fill_range split into contiguous pieces over `threads` threads (the caller runs one piece).
void fill_parallel(const Layout& layout, std::uint64_t pos, std::span<std::byte> out,
                   std::size_t threads, Stores stores);

}  // namespace omnio::datagen_internal
