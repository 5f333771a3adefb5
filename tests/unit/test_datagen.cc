// The data generator's contract (docs/ARCHITECTURE.md "Data generation"): exact size, dedup ratio
// nblocks / unique with byte-identical blocks per class, zstd ratio ~ compress factor, no shared
// template, reproducible seeds, distinct objects, streaming == one-shot for any chunking.
#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <set>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "omnio/constants.h"
#include "omnio/datagen.h"

namespace omnio {
namespace {

DataGenOptions opts(std::uint64_t size, std::size_t dedup = 1, std::size_t compress = 1,
                    std::optional<std::uint64_t> seed = 42) {
  DataGenOptions o;
  o.size = size;
  o.dedup_factor = dedup;
  o.compress_factor = compress;
  o.seed = seed;
  return o;
}

Bytes gen(const DataGenOptions& o) {
  auto r = generate(o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? *r : Bytes();
}

std::string_view view(const Bytes& b, std::size_t off, std::size_t len) {
  return b.as_string_view().substr(off, len);
}

double zstd_ratio(const Bytes& b) {
  std::vector<char> out(ZSTD_compressBound(b.size()));
  const std::size_t n = ZSTD_compress(out.data(), out.size(), b.data(), b.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  return static_cast<double>(b.size()) / static_cast<double>(n);
}

// Distinct `chunk`-sized aligned pieces of b (a trailing short piece counts too).
std::size_t distinct_chunks(const Bytes& b, std::size_t chunk) {
  std::unordered_set<std::string_view> seen;
  for (std::size_t off = 0; off < b.size(); off += chunk) seen.insert(view(b, off, chunk));
  return seen.size();
}

// ---- Options ----------------------------------------------------------------------------------

void expect_invalid(const DataGenOptions& o, std::string_view field) {
  const Status s = o.validate();
  ASSERT_FALSE(s.ok()) << field;
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message().find(field), std::string::npos) << s.error().message();
  // Every entry point reports the same error instead of generating anything.
  auto g = generate(o);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code(), ErrorCode::kInvalidArgument);
  auto s2 = DataGenerator::create(o);
  ASSERT_FALSE(s2.ok());
  EXPECT_EQ(s2.error().code(), ErrorCode::kInvalidArgument);
}

TEST(DataGen, ValidateNamesTheBadField) {
  EXPECT_TRUE(opts(100).validate().ok());
  expect_invalid(opts(100, 0), "dedup_factor");
  expect_invalid(opts(100, 1, 0), "compress_factor");
  expect_invalid(opts(100, 1, kMaxDataGenCompressFactor + 1), "compress_factor");
  for (std::size_t bs : {std::size_t{0}, std::size_t{1}, kDataGenSegmentSize - 1,
                         kDataGenSegmentSize + 8, kMaxDataGenBlockSize + kDataGenSegmentSize}) {
    auto o = opts(100);
    o.block_size = bs;
    expect_invalid(o, "block_size");
  }
  auto o = opts(100);
  o.threads = 0;
  expect_invalid(o, "threads");
  o.threads = 3;
  o.block_size = kMinDataGenBlockSize;
  o.compress_factor = kMaxDataGenCompressFactor;
  o.dedup_factor = 1'000'000;  // more than there are blocks: one class, not an error
  EXPECT_TRUE(o.validate().ok());
}

TEST(DataGen, GenerateIntoChecksTheDestinationSize) {
  std::vector<std::byte> buf(10);
  const Status s = generate_into(opts(11), buf);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(generate_into(opts(10), buf).ok());
  const Bytes one_shot = gen(opts(10));
  EXPECT_EQ(Bytes::copy_of(buf), one_shot);
}

// ---- Size -------------------------------------------------------------------------------------

TEST(DataGen, ExactSizeForEverySize) {
  const std::uint64_t b = kDataGenBlockSize;
  for (std::uint64_t size :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{7}, std::uint64_t{8}, std::uint64_t{9},
        std::uint64_t{511}, std::uint64_t{512}, std::uint64_t{4095}, std::uint64_t{4096},
        std::uint64_t{4097}, b - 1, b, b + 1, 3 * b + 5}) {
    for (std::size_t compress : {1, 3}) {
      for (std::size_t dedup : {1, 2}) {
        SCOPED_TRACE(testing::Message() << "size=" << size << " c=" << compress << " d=" << dedup);
        const Bytes out = gen(opts(size, dedup, compress));
        EXPECT_EQ(out.size(), size);
        // Buffers are page-aligned so direct:// can write them without a bounce copy.
        if (size > 0) {
          EXPECT_EQ(reinterpret_cast<std::uintptr_t>(out.data()) % 4096, 0u);
        }
        auto g = DataGenerator::create(opts(size, dedup, compress));
        ASSERT_TRUE(g.ok());
        EXPECT_EQ(g->size(), size);
        EXPECT_EQ(g->remaining(), size);
      }
    }
  }
}

TEST(DataGen, TinyObjectsAreNotPadded) {
  // s3dlio rounded small objects up to 512/4096 bytes (#136). One byte is one byte, and it is not
  // a constant: 64 seeds give many different values.
  std::set<std::byte> values;
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    const Bytes one = gen(opts(1, 1, 1, seed));
    ASSERT_EQ(one.size(), 1u);
    values.insert(one[0]);
  }
  EXPECT_GT(values.size(), 40u);
}

// ---- Dedup ------------------------------------------------------------------------------------

// unique = max(1, round_half_up(nblocks / dedup)); block i is in class i % unique.
std::size_t expected_unique(std::size_t nblocks, std::size_t dedup) {
  return std::max<std::size_t>(
      1, static_cast<std::size_t>(std::floor(static_cast<double>(nblocks) / dedup + 0.5)));
}

void check_dedup(std::size_t nblocks, std::size_t dedup, std::size_t compress,
                 std::size_t block_size) {
  SCOPED_TRACE(testing::Message() << "nblocks=" << nblocks << " dedup=" << dedup
                                  << " compress=" << compress << " block=" << block_size);
  auto o = opts(nblocks * block_size, dedup, compress);
  o.block_size = block_size;
  const Bytes out = gen(o);
  ASSERT_EQ(out.size(), nblocks * block_size);
  const std::size_t unique = expected_unique(nblocks, dedup);
  for (std::size_t i = 0; i < nblocks; ++i) {
    for (std::size_t j = i + 1; j < nblocks; ++j) {
      const bool same =
          view(out, i * block_size, block_size) == view(out, j * block_size, block_size);
      EXPECT_EQ(same, i % unique == j % unique) << "blocks " << i << " and " << j;
    }
  }
  // The ratio a dedup engine measures at the block size, and at any aligned power-of-two chunk
  // no larger than a block.
  EXPECT_EQ(distinct_chunks(out, block_size), unique);
  EXPECT_EQ(distinct_chunks(out, kDataGenSegmentSize), unique * (block_size / kDataGenSegmentSize));
}

TEST(DataGen, DedupClassesAreByteIdenticalAndOthersDiffer) {
  const std::size_t small = 4 * kDataGenSegmentSize;
  for (std::size_t dedup : {1, 2, 3, 4, 5, 7, 16, 17, 100}) {
    check_dedup(16, dedup, 1, small);
    check_dedup(16, dedup, 4, small);
  }
  check_dedup(6, 4, 1, small);               // 1.5 rounds up to 2 classes
  check_dedup(3, 2, 2, small);               // 1.5 -> 2
  check_dedup(10, 4, 1, small);              // 2.5 -> 3
  check_dedup(9, 4, 3, small);               // 2.25 -> 2
  check_dedup(1, 8, 1, small);               // one block: nothing to share
  check_dedup(16, 4, 1, kDataGenBlockSize);  // default 1 MiB blocks, 16 MiB
  check_dedup(16, 3, 2, kDataGenBlockSize);
}

TEST(DataGen, ShortLastBlockFollowsItsClass) {
  // 5 full blocks + 100 bytes, dedup 2: nblocks 6, unique 3; block 5 is in class 2. It cannot be a
  // duplicate (it is shorter), but it is the prefix of its class's block when compress == 1.
  const std::size_t bs = 4 * kDataGenSegmentSize;
  auto o = opts(5 * bs + 100, 2, 1);
  o.block_size = bs;
  const Bytes out = gen(o);
  EXPECT_EQ(view(out, 5 * bs, 100), view(out, 2 * bs, 100));
  EXPECT_NE(view(out, 5 * bs, 100), view(out, 1 * bs, 100));
}

// ---- Compression ------------------------------------------------------------------------------

TEST(DataGen, ZstdRatioMatchesCompressFactor) {
  for (std::size_t c = 1; c <= 8; ++c) {
    const Bytes out = gen(opts(16 * kMiB + 12345, 1, c));
    const double ratio = zstd_ratio(out);
    SCOPED_TRACE(testing::Message() << "compress=" << c << " zstd ratio=" << ratio);
    if (c == 1) {
      EXPECT_LE(ratio, 1.0);  // incompressible: zstd stores it raw
      EXPECT_GE(ratio, 1.0 / 1.01);
    } else {
      EXPECT_NEAR(ratio, static_cast<double>(c), 0.10 * static_cast<double>(c));
    }
  }
}

TEST(DataGen, ZstdRatioHoldsUpToTheMaximumFactor) {
  for (std::size_t c :
       {std::size_t{12}, std::size_t{16}, std::size_t{32}, kMaxDataGenCompressFactor}) {
    const double ratio = zstd_ratio(gen(opts(16 * kMiB, 1, c)));
    EXPECT_NEAR(ratio, static_cast<double>(c), 0.10 * static_cast<double>(c)) << "compress=" << c;
  }
}

TEST(DataGen, SmallObjectsCompressToo) {
  // s3dlio's 1 MiB block made objects < 1 MiB compress wrongly (fixed in 0.9.38).
  for (std::uint64_t size :
       {std::uint64_t{4000}, std::uint64_t{65536 + 100}, std::uint64_t{300 * kKiB}}) {
    for (std::size_t c : {2, 4}) {
      const double ratio = zstd_ratio(gen(opts(size, 1, c)));
      EXPECT_NEAR(ratio, static_cast<double>(c), 0.10 * static_cast<double>(c))
          << "size=" << size << " compress=" << c;
    }
  }
}

TEST(DataGen, NoSharedTemplateAndNoZeroChunks) {
  // s3dlio's shared base block made "incompressible" data compress 7.7:1. Here every aligned 4 KiB
  // chunk is distinct and none is all zeros, for every compress factor.
  for (std::size_t c : {1, 2, 8, 64}) {
    const Bytes out = gen(opts(32 * kMiB, 1, c));
    EXPECT_EQ(distinct_chunks(out, kDataGenSegmentSize), out.size() / kDataGenSegmentSize)
        << "compress=" << c;
    const std::string zeros(kDataGenSegmentSize, '\0');
    for (std::size_t off = 0; off < out.size(); off += kDataGenSegmentSize) {
      ASSERT_NE(view(out, off, kDataGenSegmentSize), zeros) << "compress=" << c << " at " << off;
    }
  }
}

TEST(DataGen, IncompressibleBytesAreUniform) {
  const Bytes out = gen(opts(16 * kMiB, 1, 1));
  std::array<std::uint64_t, 256> hist{};
  std::array<std::uint64_t, 64> ones{};
  for (std::size_t i = 0; i < out.size(); ++i) ++hist[std::to_integer<unsigned>(out[i])];
  for (std::size_t i = 0; i + 8 <= out.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, out.data() + i, 8);
    for (int bit = 0; bit < 64; ++bit) ones[bit] += (w >> bit) & 1;
  }
  const double expected = static_cast<double>(out.size()) / 256;
  double chi2 = 0;
  for (auto h : hist) chi2 += (h - expected) * (h - expected) / expected;
  // 255 degrees of freedom: mean 255, p(chi2 > 400) ~ 1e-8.
  EXPECT_LT(chi2, 400.0);
  const double words = static_cast<double>(out.size() / 8);
  for (int bit = 0; bit < 64; ++bit) {
    // 6 standard deviations of a fair coin over 2M words.
    EXPECT_NEAR(static_cast<double>(ones[bit]) / words, 0.5, 6 * 0.5 / std::sqrt(words)) << bit;
  }
}

// ---- Seeds and objects ------------------------------------------------------------------------

TEST(DataGen, SeededRunsAreReproducible) {
  for (std::size_t c : {1, 5}) {
    const auto o = opts(3 * kMiB + 17, 2, c, 1234);
    EXPECT_EQ(gen(o), gen(o));
    auto other = o;
    other.seed = 1235;
    EXPECT_NE(gen(o), gen(other));
  }
}

TEST(DataGen, ThreadCountDoesNotChangeTheBytes) {
  auto o = opts(20 * kMiB + 4097, 3, 3, 99);
  o.threads = 1;
  const Bytes one = gen(o);
  for (std::size_t t : {2, 3, 7}) {
    o.threads = t;
    EXPECT_EQ(gen(o), one) << "threads=" << t;
  }
  o.threads.reset();
  EXPECT_EQ(gen(o), one);
}

TEST(DataGen, UnseededRunsDiffer) {
  const Bytes a = gen(opts(4096, 1, 1, std::nullopt));
  const Bytes b = gen(opts(4096, 1, 1, std::nullopt));
  EXPECT_NE(a, b);
  std::set<std::uint64_t> seeds;
  for (int i = 0; i < 1000; ++i) seeds.insert(random_seed());
  EXPECT_EQ(seeds.size(), 1000u);
}

TEST(DataGen, ObjectIndexGivesDistinctObjectsFromOneSeed) {
  // `omnio put -n N --seed S`: N different objects, reproducibly, and no 4 KiB chunk shared
  // between them (s3dlio uploaded N copies of one object).
  std::vector<Bytes> objects;
  for (std::uint64_t i = 0; i < 8; ++i) {
    auto o = opts(kMiB + 4096, 1, 2, 7);
    o.object_index = i;
    objects.push_back(gen(o));
    EXPECT_EQ(objects.back(), gen(o));
  }
  std::unordered_set<std::string_view> chunks;
  std::size_t total = 0;
  for (const Bytes& b : objects) {
    for (std::size_t off = 0; off < b.size(); off += kDataGenSegmentSize, ++total) {
      chunks.insert(view(b, off, kDataGenSegmentSize));
    }
  }
  EXPECT_EQ(chunks.size(), total);
}

TEST(DataGen, DedupDoesNotCrossObjects) {
  // Dedup classes are per object: object 1's blocks never repeat object 0's.
  auto o = opts(8 * kDataGenBlockSize, 4, 1, 7);
  const Bytes a = gen(o);
  o.object_index = 1;
  const Bytes b = gen(o);
  std::unordered_set<std::string_view> blocks;
  for (const Bytes* x : {&a, &b}) {
    for (std::size_t off = 0; off < x->size(); off += kDataGenBlockSize) {
      blocks.insert(view(*x, off, kDataGenBlockSize));
    }
  }
  EXPECT_EQ(blocks.size(), 2u * 2u);  // 2 classes in each object
}

// ---- Streaming --------------------------------------------------------------------------------

Bytes stream_all(DataGenerator& g, std::size_t chunk) {
  std::vector<std::byte> out(g.remaining());
  std::size_t pos = 0;
  while (g.remaining() > 0) {
    const std::size_t want = std::min(chunk, out.size() - pos);
    auto n = g.fill(std::span(out).subspan(pos, want));
    EXPECT_TRUE(n.ok());
    if (!n.ok() || *n != want) {
      ADD_FAILURE() << "fill returned " << (n.ok() ? *n : 0) << " of " << want;
      break;
    }
    pos += *n;
    EXPECT_EQ(g.position(), pos);
  }
  return Bytes::from_vector(std::move(out));
}

TEST(DataGen, StreamingEqualsOneShotForAnyChunkSize) {
  struct Case {
    std::size_t dedup, compress, block;
  };
  for (const Case& k : {Case{1, 1, kDataGenBlockSize}, Case{2, 3, kDataGenBlockSize},
                        Case{4, 8, 4 * kDataGenSegmentSize}, Case{3, 2, 3 * kDataGenSegmentSize}}) {
    for (std::size_t chunk :
         {std::size_t{1}, std::size_t{7}, std::size_t{4096}, std::size_t{65537}, kMiB + 3}) {
      // Chunks of 1 and 7 bytes on a smaller object keep the test fast under sanitizers.
      const std::uint64_t size = chunk < 4096 ? 2 * k.block + 4097 : 3 * k.block + 12345;
      SCOPED_TRACE(testing::Message() << "dedup=" << k.dedup << " compress=" << k.compress
                                      << " block=" << k.block << " chunk=" << chunk);
      auto o = opts(size, k.dedup, k.compress, 5);
      o.block_size = k.block;
      auto g = DataGenerator::create(o);
      ASSERT_TRUE(g.ok());
      EXPECT_EQ(stream_all(*g, chunk), gen(o));
    }
  }
}

TEST(DataGen, StreamingWithIrregularChunksAndLargeFills) {
  auto o = opts(40 * kMiB + 999, 2, 4, 11);  // large fills take the parallel path
  const Bytes one_shot = gen(o);
  auto g = DataGenerator::create(o);
  ASSERT_TRUE(g.ok());
  std::vector<std::byte> out(o.size);
  std::size_t pos = 0;
  const std::array<std::size_t, 6> chunks = {3, 1 << 20, 13 * kMiB + 1, 4095, 9, 17 * kMiB};
  for (std::size_t i = 0; pos < out.size(); ++i) {
    const std::size_t want = std::min(chunks[i % chunks.size()], out.size() - pos);
    auto n = g->fill(std::span(out).subspan(pos, want));
    ASSERT_TRUE(n.ok());
    ASSERT_EQ(*n, want);
    pos += want;
  }
  EXPECT_EQ(Bytes::copy_of(out), one_shot);
}

TEST(DataGen, LargeFillsIntoExistingMemoryMatchAtAnyAlignment) {
  // Fills of >= kDataGenStreamingStoreThreshold into caller memory take the streaming-store path;
  // the bytes must not depend on it, nor on the destination's alignment.
  for (std::size_t c : {1, 3}) {
    auto o = opts(kDataGenStreamingStoreThreshold + 4096 + 5, 2, c, 8);
    const Bytes one_shot = gen(o);
    std::vector<std::byte> buf(o.size + 8);
    for (std::size_t misalign : {0, 3}) {
      SCOPED_TRACE(testing::Message() << "compress=" << c << " misalign=" << misalign);
      const auto dest = std::span(buf).subspan(misalign, o.size);
      ASSERT_TRUE(generate_into(o, dest).ok());
      EXPECT_EQ(Bytes::copy_of(dest), one_shot);
      // Streaming: a small odd first chunk, then one large fill from an odd position.
      auto g = DataGenerator::create(o);
      ASSERT_TRUE(g.ok());
      std::fill(buf.begin(), buf.end(), std::byte{0xAA});
      EXPECT_EQ(*g->fill(dest.first(13)), 13u);
      EXPECT_EQ(*g->fill(dest.subspan(13)), o.size - 13);
      EXPECT_EQ(Bytes::copy_of(dest), one_shot);
    }
  }
}

TEST(DataGen, StreamStateRemainingEndAndReset) {
  auto o = opts(10000, 1, 2, 3);
  auto g = DataGenerator::create(o);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->seed(), 3u);
  std::vector<std::byte> buf(6000);
  EXPECT_EQ(*g->fill(buf), 6000u);
  EXPECT_EQ(g->remaining(), 4000u);
  EXPECT_EQ(*g->fill({}), 0u);      // an empty destination is not the end
  EXPECT_EQ(*g->fill(buf), 4000u);  // a larger destination gets only what is left
  EXPECT_EQ(g->remaining(), 0u);
  EXPECT_EQ(*g->fill(buf), 0u);  // the end
  const Bytes tail = Bytes::copy_of(std::span(buf).first(4000));
  EXPECT_EQ(tail, gen(o).slice(6000));
  g->reset();
  EXPECT_EQ(g->position(), 0u);
  EXPECT_EQ(g->remaining(), 10000u);
  EXPECT_EQ(stream_all(*g, 999), gen(o));

  auto empty = DataGenerator::create(opts(0));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty->fill(buf), 0u);
}

TEST(DataGen, UnseededGeneratorReportsItsSeed) {
  auto o = opts(kMiB + 5, 2, 2, std::nullopt);
  auto g = DataGenerator::create(o);
  ASSERT_TRUE(g.ok());
  const Bytes first = stream_all(*g, 100000);
  g->reset();
  EXPECT_EQ(stream_all(*g, 4096), first);  // reset replays the same bytes
  o.seed = g->seed();
  EXPECT_EQ(gen(o), first);  // and the seed reproduces them
  auto g2 = DataGenerator::create(opts(kMiB + 5, 2, 2, std::nullopt));
  ASSERT_TRUE(g2.ok());
  EXPECT_NE(g2->seed(), g->seed());
  EXPECT_NE(stream_all(*g2, kMiB), first);
}

}  // namespace
}  // namespace omnio
