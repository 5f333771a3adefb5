#include "omnio/datagen.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/random.h>

#include <atomic>
#include <chrono>
#include <limits>

#include "datagen/fill.h"
#include "omnio/aligned_buffer.h"

namespace omnio {
namespace {

using datagen_internal::fill_parallel;
using datagen_internal::make_layout;
using datagen_internal::plan_threads;
using datagen_internal::Stores;
using datagen_internal::stores_for;

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidArgument, "datagen: " + std::move(message));
}

constexpr std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t resolve_seed(const DataGenOptions& options) {
  return options.seed ? *options.seed : random_seed();
}

}  // namespace

Status DataGenOptions::validate() const {
  if (dedup_factor == 0) return invalid("dedup_factor must be >= 1 (1 = no dedup)");
  if (compress_factor == 0) return invalid("compress_factor must be >= 1 (1 = incompressible)");
  if (compress_factor > kMaxDataGenCompressFactor) {
    return invalid(fmt::format("compress_factor {} exceeds the maximum {}", compress_factor,
                               kMaxDataGenCompressFactor));
  }
  if (block_size < kMinDataGenBlockSize || block_size > kMaxDataGenBlockSize ||
      block_size % kDataGenSegmentSize != 0) {
    return invalid(fmt::format("block_size {} must be a multiple of {} bytes in [{}, {}]",
                               block_size, kDataGenSegmentSize, kMinDataGenBlockSize,
                               kMaxDataGenBlockSize));
  }
  if (threads && *threads == 0) return invalid("threads must be >= 1 (absent = auto)");
  return ok_status();
}

std::uint64_t random_seed() {
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t entropy = 0;
  // getrandom rather than std::random_device: same kernel source, but it reports failure as a
  // value instead of throwing. A failure only loses the kernel entropy; the counter still makes
  // every seed of the process distinct.
  if (getrandom(&entropy, sizeof entropy, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof entropy)) {
    entropy = 0;
  }
  const auto now =
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  const std::uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  return splitmix64(entropy ^ splitmix64(now ^ splitmix64(n)));
}

namespace {

// generate() and generate_into(): validation, then one (parallel) fill of the whole object.
Status fill_all(const DataGenOptions& options, std::span<std::byte> dest, Stores stores) {
  OMNIO_TRY(options.validate());
  if (dest.size() != options.size) {
    return invalid(
        fmt::format("destination holds {} bytes but size is {}", dest.size(), options.size));
  }
  const auto layout = make_layout(options, resolve_seed(options));
  fill_parallel(layout, 0, dest, plan_threads(options.threads, options.size), stores);
  return ok_status();
}

}  // namespace

Status generate_into(const DataGenOptions& options, std::span<std::byte> dest) {
  return fill_all(options, dest, stores_for(dest.size()));
}

Result<Bytes> generate(const DataGenOptions& options) {
  OMNIO_TRY(options.validate());
  if (options.size > std::numeric_limits<std::size_t>::max()) {
    return Error(ErrorCode::kResourceExhausted,
                 fmt::format("datagen: size {} does not fit in memory", options.size));
  }
  const auto size = static_cast<std::size_t>(options.size);
  // Large buffers ask for transparent huge pages: first-touch faults dominate generate() (~1.5 us
  // per 4 KiB page on the bench VM against ~0.25 us to fill it), and 2 MiB pages double its
  // throughput (2.4 -> 4.7 GB/s on one thread). At most one partly used huge page is wasted.
  const bool huge = size >= kDataGenHugePageThreshold;
  OMNIO_ASSIGN_OR_RETURN(
      auto buffer,
      AlignedBuffer::allocate(size, huge ? kDataGenHugePageSize : kDataGenBufferAlignment));
  if (huge) (void)madvise(buffer.data(), buffer.capacity(), MADV_HUGEPAGE);  // a hint: may fail
  // Fresh pages: each first touch faults in a zeroed page that is then in cache, so regular stores
  // beat streaming ones here.
  OMNIO_TRY(fill_all(options, buffer.span(), Stores::kCached));
  return Bytes::from_aligned(std::move(buffer));
}

Result<DataGenerator> DataGenerator::create(const DataGenOptions& options) {
  OMNIO_TRY(options.validate());
  DataGenerator g;
  g.options_ = options;
  g.size_ = options.size;
  g.seed_ = resolve_seed(options);
  return g;
}

Result<std::size_t> DataGenerator::fill(std::span<std::byte> dest) {
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(dest.size(), remaining()));
  if (n == 0) return std::size_t{0};
  const auto layout = make_layout(options_, seed_);
  fill_parallel(layout, position_, dest.first(n), plan_threads(options_.threads, n), stores_for(n));
  position_ += n;
  return n;
}

}  // namespace omnio
