// file:// with the RangeEngine: the seed's five tests, and a randomized comparison of thousands of
// ranged reads against plain pread on file:// and direct://.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

#include "backends/file/file_store.h"
#include "local_test_util.h"
#include "omnio/store_factory.h"

namespace omnio {
namespace {

using testutil::TempDir;

std::vector<std::byte> modulo_pattern(std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(i % 256);
  return v;
}

FileSystemConfig engine_on() {
  FileSystemConfig c = FileSystemConfig::buffered();
  c.enable_range_engine = true;
  return c;
}

TEST(FileRangeEngine, SmallFileBelowThreshold) {
  TempDir d;
  auto data = modulo_pattern(1 << 20);
  testutil::write_file(d.file("a"), data);
  auto s = *make_file_store(engine_on(), false);
  auto got = s->get("file://" + d.file("a"));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(testutil::equal(*got, data));
  EXPECT_EQ(file_store_stats(*s).engine_gets, 0u);
}

TEST(FileRangeEngine, LargeFileThroughEngine) {
  TempDir d;
  auto data = modulo_pattern(10 << 20);
  testutil::write_file(d.file("b"), data);
  auto s = *make_file_store(engine_on(), false);
  auto got = s->get("file://" + d.file("b"));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(testutil::equal(*got, data));  // every byte, not every 1024th
  EXPECT_EQ(file_store_stats(*s).engine_gets, 1u);
}

TEST(FileRangeEngine, CustomConfig) {
  TempDir d;
  auto data = modulo_pattern(8 << 20);
  testutil::write_file(d.file("c"), data);
  FileSystemConfig cfg = engine_on();
  cfg.range_engine.chunk_size = 1 << 20;
  cfg.range_engine.min_split_size = 2 << 20;
  auto s = *make_file_store(cfg, false);
  auto got = s->get("file://" + d.file("c"));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(testutil::equal(*got, data));
  EXPECT_EQ(file_store_stats(*s).engine_gets, 1u);
}

TEST(FileRangeEngine, DisabledByDefault) {
  TempDir d;
  auto data = modulo_pattern(10 << 20);
  testutil::write_file(d.file("e"), data);
  auto s = *make_file_store(FileSystemConfig::buffered(), false);
  auto got = s->get("file://" + d.file("e"));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(testutil::equal(*got, data));
  EXPECT_EQ(file_store_stats(*s).engine_gets, 0u);
  EXPECT_EQ(file_store_stats(*s).simple_gets, 1u);
}

TEST(FileRangeEngine, ViaStoreForUri) {
  TempDir d;
  auto data = modulo_pattern(5 << 20);
  testutil::write_file(d.file("f"), data);
  Config cfg;
  cfg.file = engine_on();
  auto s = store_for_uri("file://" + d.file("f"), cfg);
  ASSERT_TRUE(s.ok());
  auto got = (*s)->get("file://" + d.file("f"));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(testutil::equal(*got, data));
  EXPECT_EQ(file_store_stats(**s).engine_gets, 1u);
}

TEST(FileRangeEngine, SinkDeliversInOrderWithBoundedBuffers) {
  TempDir d;
  auto data = testutil::pattern((40 << 20) + 333);
  testutil::write_file(d.file("sink"), data);
  FileSystemConfig cfg = FileSystemConfig::direct_io();
  cfg.range_engine.chunk_size = 4 << 20;
  cfg.range_engine.max_concurrent_ranges = 3;
  auto s = *make_file_store(cfg, true);
  std::uint64_t expect = 0;
  std::size_t max_chunk = 0;
  bool same = true;
  Status st = s->get_to_sink("direct://" + d.file("sink"), [&](std::uint64_t off, Bytes b) {
    EXPECT_EQ(off, expect);
    same = same && std::equal(b.data(), b.data() + b.size(), data.begin() + off);
    expect += b.size();
    max_chunk = std::max(max_chunk, b.size());
    return ok_status();
  });
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(expect, data.size());
  EXPECT_TRUE(same);
  EXPECT_LE(max_chunk, 4u << 20);
}

// The sequential sink path (no RangeEngine) sizes its buffer to the file when the file is smaller
// than one block: every size around the block and alignment edges streams back whole and in order,
// buffered and O_DIRECT.
TEST(FileRangeEngine, SequentialSinkEverySizeAroundBlockEdges) {
  TempDir d;
  for (bool direct : {false, true}) {
    FileSystemConfig cfg = direct ? FileSystemConfig::direct_io() : FileSystemConfig::buffered();
    cfg.enable_range_engine = false;
    cfg.io_block_size = 64 << 10;
    auto s = *make_file_store(cfg, direct);
    const std::size_t block = cfg.io_block_size;
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{4095}, std::size_t{4096},
                             std::size_t{4097}, block - 1, block, block + 1, 3 * block + 5}) {
      SCOPED_TRACE(fmt::format("direct={} size={}", direct, size));
      const std::string name = fmt::format("seq-{}-{}", direct, size);
      auto data = testutil::pattern(size, static_cast<std::uint32_t>(size));
      testutil::write_file(d.file(name), data);
      std::vector<std::byte> got;
      Status st = s->get_to_sink((direct ? "direct://" : "file://") + d.file(name),
                                 [&](std::uint64_t off, Bytes b) {
                                   EXPECT_EQ(off, got.size());
                                   EXPECT_LE(b.size(), block);
                                   got.insert(got.end(), b.data(), b.data() + b.size());
                                   return ok_status();
                                 });
      ASSERT_TRUE(st.ok()) << st.error().to_string();
      EXPECT_TRUE(testutil::equal(Bytes::copy_of(got), data));
    }
  }
}

// Thousands of random (offset, length) reads through get_range and get_into (aligned and unaligned
// caller buffers) on odd-sized files, byte-for-byte against pread.
TEST(FileRangeEngine, RandomizedReadsMatchPread) {
  TempDir d;
  const std::size_t size = (5 << 20) + 1234;
  auto data = testutil::pattern(size, 99);
  testutil::write_file(d.file("rand"), data);
  std::mt19937_64 rng(20261125);
  for (bool direct : {false, true}) {
    auto s = *make_file_store(direct ? FileSystemConfig::direct_io() : FileSystemConfig::buffered(),
                              direct);
    const std::string u = (direct ? "direct://" : "file://") + d.file("rand");
    auto aligned = AlignedBuffer::allocate(1 << 20, 4096);
    ASSERT_TRUE(aligned.ok());
    std::vector<std::byte> plain((1 << 20) + 1);
    for (int i = 0; i < 1500; ++i) {
      std::uint64_t off = rng() % (size + 1);
      std::uint64_t len = rng() % 3 == 0 ? rng() % 16 : rng() % (1 << 20);
      if (rng() % 4 == 0) off = (off / 4096) * 4096;  // some aligned offsets
      auto r = s->get_range(u, off, len);
      ASSERT_TRUE(r.ok()) << r.error().to_string();
      const std::uint64_t expect = std::min<std::uint64_t>(len, size - off);
      ASSERT_EQ(r->size(), expect) << off << "+" << len;
      ASSERT_TRUE(std::equal(r->data(), r->data() + r->size(), data.begin() + off)) << off;
      std::span<std::byte> dest =
          rng() % 2 ? aligned->span().first(len) : std::span(plain).subspan(1, len);  // misaligned
      auto n = s->get_into(u, off, dest);
      ASSERT_TRUE(n.ok()) << n.error().to_string();
      ASSERT_EQ(*n, expect);
      ASSERT_TRUE(std::equal(dest.data(), dest.data() + expect, data.begin() + off)) << off;
    }
  }
}

// Positional writes (what copy_object uses when a source hands bytes over out of order): a
// buffered file writer accepts pieces in any order from several threads, repeated pieces, and a
// final size smaller than what was written; O_DIRECT and compressing writers refuse.
TEST(FileWriter, WriteAtAnyOrderFromThreads) {
  TempDir d;
  auto s = make_file_store(FileSystemConfig::buffered(), false);
  ASSERT_TRUE(s.ok());
  const auto data = modulo_pattern((9 << 20) + 123);
  const std::string uri = "file://" + d.file("pos.bin");
  auto w = (*s)->create_writer(uri);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->supports_write_at());
  const std::size_t piece = 1 << 20;
  const std::size_t pieces = (data.size() + piece - 1) / piece;
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (std::size_t i = pieces; i-- > 0;) {  // backwards, interleaved across threads
          if (i % 4 != t) continue;
          const std::size_t off = i * piece, n = std::min(piece, data.size() - off);
          ASSERT_TRUE((*w)->write_at(off, std::span(data).subspan(off, n)).ok());
        }
      });
    }
  }
  // A retried piece arrives twice; a longer stale tail is cut by set_size.
  ASSERT_TRUE((*w)->write_at(0, std::span(data).first(piece)).ok());
  const std::vector<std::byte> junk(5000, std::byte{0xEE});
  ASSERT_TRUE((*w)->write_at(data.size(), junk).ok());
  EXPECT_FALSE((*w)->write(std::span(data).first(10)).ok()) << "write() after write_at()";
  ASSERT_TRUE((*w)->set_size(data.size()).ok());
  EXPECT_FALSE(std::filesystem::exists(d.file("pos.bin"))) << "visible only after finalize";
  ASSERT_TRUE((*w)->finalize().ok());
  EXPECT_EQ((*w)->bytes_written(), data.size());
  EXPECT_EQ(testutil::read_file(d.file("pos.bin")), data);

  auto direct = make_file_store(FileSystemConfig::direct_io(), true);
  ASSERT_TRUE(direct.ok());
  auto dw = (*direct)->create_writer("direct://" + d.file("dio.bin"));
  ASSERT_TRUE(dw.ok());
  EXPECT_FALSE((*dw)->supports_write_at());
  EXPECT_EQ((*dw)->write_at(0, junk).error().code(), ErrorCode::kUnimplemented);
  WriterOptions zo;
  zo.zstd_level = 3;
  auto zw = (*s)->create_writer("file://" + d.file("z.bin"), zo);
  ASSERT_TRUE(zw.ok());
  EXPECT_FALSE((*zw)->supports_write_at());
}

}  // namespace
}  // namespace omnio
