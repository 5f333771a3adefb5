#include "datagen/fill.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "omnio/aligned_buffer.h"
#include "omnio/constants.h"

namespace omnio::datagen_internal {
namespace {

// Weyl increment (2^64 / golden ratio, odd): consecutive keystream words use counters j * kWeyl.
constexpr std::uint64_t kWeyl = 0x9E3779B97F4A7C15ull;
// Domain separators so the seed, object index and dedup class never feed the mixer the same way.
constexpr std::uint64_t kSeedSalt = 0x6A09E667F3BCC908ull;
constexpr std::uint64_t kObjectSalt = 0xBB67AE8584CAA73Bull;
constexpr std::uint64_t kClassSalt = 0x3C6EF372FE94F82Bull;
constexpr std::uint64_t kKeyASalt = 0xA54FF53A5F1D36F1ull;
constexpr std::uint64_t kKeyBSalt = 0x510E527FADE682D1ull;

// SplitMix64's finaliser (Stafford variant 13): a bijection with full avalanche.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// GCC/clang extension (-Wpedantic would flag the bare type); every 64-bit target has it.
__extension__ typedef unsigned __int128 Uint128;

// wyhash's 64x64->128 multiply folded to 64 bits: one mulx per 8 output bytes.
inline std::uint64_t mum(std::uint64_t a, std::uint64_t b) {
  const Uint128 r = static_cast<Uint128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

// The two 64-bit keys of one dedup class. Word j of the class's keystream is
// mum(j*kWeyl ^ a, j*kWeyl ^ b) (wyrand with a per-class key pair): counter based, so any word can
// be computed without the ones before it, and two classes' streams coincide only if both keys do.
struct ClassKey {
  std::uint64_t a;
  std::uint64_t b;
};

ClassKey class_key(const Layout& l, std::uint64_t cls) {
  const std::uint64_t h = mix64(l.object_key ^ mix64(cls ^ kClassSalt));
  return {mix64(h ^ kKeyASalt), mix64(h ^ kKeyBSalt)};
}

inline std::uint64_t keystream_word(const ClassKey& k, std::uint64_t j) {
  const std::uint64_t s = j * kWeyl;
  std::uint64_t w = mum(s ^ k.a, s ^ k.b);
  // The bytes are defined little-endian so every host produces the same object.
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
}

// Streaming (non-temporal) stores write whole lines to memory without reading them first (no
// read-for-ownership): 14.4 vs 8.4 GB/s on a pre-faulted 1 GiB buffer (bench machine). They are
// used only for fills too large to stay in cache for the consumer (kDataGenStreamingStoreThreshold)
// and never on freshly allocated memory, where the page fault has just put the zeroed lines in
// cache and regular stores are faster (2.5 vs 1.8 GB/s including faults).
#if defined(__x86_64__)
constexpr bool kHaveStreamingStores = true;
#else
constexpr bool kHaveStreamingStores = false;
#endif

template <bool kStream>
inline void store_word(std::byte* p, std::uint64_t w) {
#if defined(__x86_64__)
  if constexpr (kStream) {
    _mm_stream_si64(reinterpret_cast<long long*>(p), static_cast<long long>(w));
    return;
  }
#endif
  std::memcpy(p, &w, 8);
}

// Keystream words [j, j + words) into out. The hot loop: 8 bytes per iteration, one multiply; the
// counter advances by addition.
template <bool kStream>
void fill_words(const ClassKey& k, std::uint64_t j, std::byte* out, std::size_t words) {
  std::uint64_t s = j * kWeyl;
  for (std::size_t i = 0; i < words; ++i) {
    std::uint64_t w = mum(s ^ k.a, s ^ k.b);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
    store_word<kStream>(out + 8 * i, w);
    s += kWeyl;
  }
}

bool word_aligned(const std::byte* p) { return (reinterpret_cast<std::uintptr_t>(p) & 7) == 0; }

// Keystream bytes [off, off + n) of class key `k` into out.
void fill_random(const ClassKey& k, std::uint64_t off, std::byte* out, std::size_t n, bool stream) {
  std::uint64_t j = off >> 3;
  if (const unsigned skip = off & 7; skip != 0 && n > 0) {
    const std::uint64_t w = keystream_word(k, j++);
    const std::size_t take = std::min<std::size_t>(8 - skip, n);
    std::memcpy(out, reinterpret_cast<const std::byte*>(&w) + skip, take);
    out += take;
    n -= take;
  }
  const std::size_t words = n >> 3;
  if (stream && word_aligned(out)) {
    fill_words<true>(k, j, out, words);
  } else {
    fill_words<false>(k, j, out, words);
  }
  out += 8 * words;
  j += words;
  if (const std::size_t tail = n & 7; tail != 0) {
    const std::uint64_t w = keystream_word(k, j);
    std::memcpy(out, &w, tail);
  }
}

void fill_zeros(std::byte* out, std::size_t n, bool stream) {
  if (!stream || n < 64) {
    std::memset(out, 0, n);
    return;
  }
  const std::size_t head = (8 - (reinterpret_cast<std::uintptr_t>(out) & 7)) & 7;
  std::memset(out, 0, head);
  out += head;
  n -= head;
  for (std::size_t i = 0; i + 8 <= n; i += 8) store_word<true>(out + i, 0);
  std::memset(out + (n & ~std::size_t{7}), 0, n & 7);
}

// Bytes [off, off + n) of a block of `block_len` bytes whose class key is `k`. With compress factor
// c, the first x bytes of a block hold floor(x * (c-1) / c) compressible bytes; each
// kDataGenSegmentSize segment [s, e) gets its share (the difference at e and s) as zeros at its end
// and keystream bytes before them. A short segment (end of the object) follows the same rule, so
// small objects compress as well as large ones.
void fill_block(const Layout& l, const ClassKey& k, std::uint64_t block_len, std::uint64_t off,
                std::byte* out, std::size_t n, bool stream) {
  if (l.compress == 1) {
    fill_random(k, off, out, n, stream);
    return;
  }
  const std::uint64_t c = l.compress;
  const auto zeros_before = [c](std::uint64_t x) { return x * (c - 1) / c; };
  const std::uint64_t end = off + n;
  while (off < end) {
    const std::uint64_t seg_start = off - off % kDataGenSegmentSize;
    const std::uint64_t seg_end =
        std::min<std::uint64_t>(seg_start + kDataGenSegmentSize, block_len);
    const std::uint64_t random_end = seg_end - (zeros_before(seg_end) - zeros_before(seg_start));
    const std::uint64_t stop = std::min(seg_end, end);
    if (off < random_end) {
      const std::uint64_t r = std::min(random_end, stop) - off;
      fill_random(k, off, out, r, stream);
      out += r;
      off += r;
    }
    if (off < stop) {
      fill_zeros(out, stop - off, stream);
      out += stop - off;
      off = stop;
    }
  }
}

}  // namespace

std::uint64_t dedup_classes(std::uint64_t nblocks, std::uint64_t dedup) {
  const std::uint64_t q = nblocks / dedup;
  const std::uint64_t r = nblocks % dedup;
  // Round half up without overflow: r / dedup >= 1/2  <=>  r >= dedup - r.
  return std::max<std::uint64_t>(1, q + (r >= dedup - r ? 1 : 0));
}

Layout make_layout(const DataGenOptions& options, std::uint64_t seed) {
  Layout l;
  l.size = options.size;
  l.block_size = options.block_size;
  const std::uint64_t nblocks = (l.size + l.block_size - 1) / l.block_size;
  l.unique = dedup_classes(nblocks, options.dedup_factor);
  l.compress = options.compress_factor;
  l.object_key = mix64(mix64(seed ^ kSeedSalt) ^ mix64(options.object_index ^ kObjectSalt));
  return l;
}

std::size_t plan_threads(const std::optional<std::size_t>& threads, std::uint64_t bytes) {
  const std::uint64_t by_size = bytes / kDataGenMinBytesPerThread;
  if (by_size <= 1) return 1;  // most calls: no thread is worth starting
  // hardware_concurrency() reads sysfs on every call (glibc get_nprocs), so ask once.
  static const std::size_t hardware = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<std::size_t>(std::min<std::uint64_t>(threads.value_or(hardware), by_size));
}

Stores stores_for(std::size_t bytes) {
  return kHaveStreamingStores && bytes >= kDataGenStreamingStoreThreshold ? Stores::kStreaming
                                                                          : Stores::kCached;
}

void fill_range(const Layout& l, std::uint64_t pos, std::span<std::byte> out, Stores stores) {
  const bool stream = stores == Stores::kStreaming;
  std::byte* p = out.data();
  std::uint64_t n = out.size();
  while (n > 0) {
    const std::uint64_t block = pos / l.block_size;
    const std::uint64_t off = pos % l.block_size;
    const std::uint64_t block_len =
        std::min<std::uint64_t>(l.block_size, l.size - block * l.block_size);
    const std::size_t take = static_cast<std::size_t>(std::min(n, block_len - off));
    fill_block(l, class_key(l, block % l.unique), block_len, off, p, take, stream);
    p += take;
    pos += take;
    n -= take;
  }
#if defined(__x86_64__)
  // Streaming stores are weakly ordered: drain them before the bytes are handed to anyone else.
  if (stream) _mm_sfence();
#endif
}

void fill_parallel(const Layout& l, std::uint64_t pos, std::span<std::byte> out,
                   std::size_t threads, Stores stores) {
  if (threads <= 1 || out.size() < 2 * kDataGenBufferAlignment) {
    fill_range(l, pos, out, stores);
    return;
  }
  // Pieces are whole pages from the start of `out`, so with a page-aligned buffer each thread
  // first-touches only its own pages.
  const std::size_t piece = align_up((out.size() + threads - 1) / threads, kDataGenBufferAlignment);
  std::vector<std::jthread> workers;
  workers.reserve(threads - 1);
  std::size_t start = piece;
  for (; start < out.size(); start += piece) {
    const auto part = out.subspan(start, std::min(piece, out.size() - start));
    try {
      workers.emplace_back(
          [&l, pos, start, part, stores] { fill_range(l, pos + start, part, stores); });
    } catch (const std::system_error&) {
      break;  // no thread available: the caller fills the rest itself
    }
  }
  fill_range(l, pos, out.first(std::min(piece, out.size())), stores);
  if (start < out.size()) fill_range(l, pos + start, out.subspan(start), stores);
  // ~jthread joins the workers before `l` and `out` go out of scope.
}

}  // namespace omnio::datagen_internal
