// direct:// with the RangeEngine: the seed's seven DirectIO tests, plus O_DIRECT write exactness,
// key confinement and the no-O_DIRECT fallback.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>

#include "backends/file/file_store.h"
#include "local_test_util.h"
#include "omnio/store_factory.h"

namespace omnio {
namespace {

using testutil::TempDir;

std::shared_ptr<ObjectStore> direct_store(FileSystemConfig cfg = FileSystemConfig::direct_io()) {
  auto s = make_file_store(cfg, true);
  EXPECT_TRUE(s.ok()) << s.error().to_string();
  return *s;
}

std::string direct_uri(const std::string& path) { return "direct://" + path; }

TEST(DirectIo, SmallObjectUsesSimplePath) {
  TempDir d;
  auto data = testutil::pattern(1 << 20);
  testutil::write_file(d.file("small"), data);
  auto s = direct_store();
  auto got = s->get(direct_uri(d.file("small")));
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_TRUE(testutil::equal(*got, data));
  EXPECT_EQ(file_store_stats(*s).simple_gets, 1u);
  EXPECT_EQ(file_store_stats(*s).engine_gets, 0u);
  EXPECT_EQ(file_store_stats(*s).direct_reads, 1u);
}

TEST(DirectIo, LargeObjectUsesRangeEngine) {
  TempDir d;
  auto data = testutil::pattern(32 << 20);
  testutil::write_file(d.file("large"), data);
  auto s = direct_store();
  auto got = s->get(direct_uri(d.file("large")));
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_TRUE(testutil::equal(*got, data));
  EXPECT_EQ(file_store_stats(*s).engine_gets, 1u);
  EXPECT_EQ(file_store_stats(*s).simple_gets, 0u);
}

TEST(DirectIo, CustomRangeEngineConfig) {
  TempDir d;
  auto data = testutil::pattern(8 << 20);
  testutil::write_file(d.file("custom"), data);
  FileSystemConfig cfg = FileSystemConfig::direct_io();
  cfg.range_engine.min_split_size = 4 << 20;
  cfg.range_engine.chunk_size = 1 << 20;
  cfg.range_engine.max_concurrent_ranges = 8;
  auto s = direct_store(cfg);
  auto got = s->get(direct_uri(d.file("custom")));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(testutil::equal(*got, data));
  EXPECT_EQ(file_store_stats(*s).engine_gets, 1u);
}

TEST(DirectIo, RangeEngineDisabled) {
  TempDir d;
  auto data = testutil::pattern(32 << 20);
  testutil::write_file(d.file("off"), data);
  FileSystemConfig cfg = FileSystemConfig::direct_io();
  cfg.enable_range_engine = false;
  auto s = direct_store(cfg);
  auto got = s->get(direct_uri(d.file("off")));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(testutil::equal(*got, data));
  EXPECT_EQ(file_store_stats(*s).engine_gets, 0u);
  EXPECT_EQ(file_store_stats(*s).simple_gets, 1u);
}

TEST(DirectIo, ViaStoreForUri) {
  TempDir d;
  auto data = testutil::pattern(20 << 20);
  testutil::write_file(d.file("factory"), data);
  auto s = store_for_uri(direct_uri(d.file("factory")));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->scheme(), "direct");
  auto got = (*s)->get(direct_uri(d.file("factory")));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(testutil::equal(*got, data));
  EXPECT_EQ(file_store_stats(**s).engine_gets, 1u);  // 20 MiB >= the 16 MiB threshold
}

TEST(DirectIo, NonAlignedFileSizes) {
  TempDir d;
  for (std::size_t n : {std::size_t{(20 << 20) + 123}, std::size_t{(16 << 20) + 1},
                        std::size_t{(64 << 20) + 4097}}) {
    auto data = testutil::pattern(n, n);
    testutil::write_file(d.file("odd"), data);
    auto s = direct_store();
    auto got = s->get(direct_uri(d.file("odd")));
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    EXPECT_TRUE(testutil::equal(*got, data)) << n;
  }
}

TEST(DirectIo, GetRangeExactness) {
  TempDir d;
  auto data = testutil::pattern(8 << 20);
  testutil::write_file(d.file("r"), data);
  auto s = direct_store();
  auto got = s->get_range(direct_uri(d.file("r")), 1 << 20, 2 << 20);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u << 20);
  EXPECT_TRUE(std::equal(got->data(), got->data() + got->size(), data.begin() + (1 << 20)));
  auto odd = s->get_range(direct_uri(d.file("r")), 4097, 10001);  // unaligned both ends
  ASSERT_TRUE(odd.ok());
  ASSERT_EQ(odd->size(), 10001u);
  EXPECT_TRUE(std::equal(odd->data(), odd->data() + odd->size(), data.begin() + 4097));
}

// Writes through put, put_multipart with odd part sizes and the streaming writer must produce
// exactly the bytes written: the original padded part sizes with zeros in the middle of the file.
TEST(DirectIo, WritesHaveExactLengthAndNoPadding) {
  TempDir d;
  auto s = direct_store();
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{511}, std::size_t{4095},
                        std::size_t{4096}, std::size_t{4097}, std::size_t{(8 << 20) - 1},
                        std::size_t{8 << 20}, std::size_t{(8 << 20) + 1}}) {
    auto data = testutil::pattern(n, n + 3);
    Bytes b = Bytes::copy_of(data);
    std::string p = d.file("w" + std::to_string(n));
    ASSERT_TRUE(s->put(direct_uri(p), b).ok()) << n;
    EXPECT_EQ(testutil::read_file(p), data) << "put " << n;
    for (std::size_t part : {std::size_t{1000}, std::size_t{12345}}) {
      ASSERT_TRUE(s->put_multipart(direct_uri(p), b, part).ok());
      EXPECT_EQ(testutil::read_file(p), data) << "put_multipart " << n << " part " << part;
    }
    auto w = s->create_writer(direct_uri(p));
    ASSERT_TRUE(w.ok());
    for (std::size_t off = 0; off < n; off += 7777) {
      ASSERT_TRUE(
          (*w)->write(std::span(data).subspan(off, std::min<std::size_t>(7777, n - off))).ok());
    }
    ASSERT_TRUE((*w)->finalize().ok());
    EXPECT_EQ(testutil::read_file(p), data) << "writer " << n;
  }
}

// The writer sends aligned caller memory straight through O_DIRECT and everything else through its
// staging buffer; any mix of the two, in any order, must give back exactly the bytes written.
TEST(DirectIo, WriterMixesAlignedAndUnalignedChunks) {
  TempDir d;
  auto s = direct_store();
  const std::size_t n = (20 << 20) + 777;
  auto data = testutil::pattern(n, 11);
  auto src = AlignedBuffer::allocate(n, 4096);
  ASSERT_TRUE(src.ok());
  std::memcpy(src->data(), data.data(), n);
  // Chunk lengths: aligned (direct), a short odd one (staging), aligned again while the staging
  // buffer holds bytes, then large aligned ones from an aligned address once staging drained.
  const std::vector<std::size_t> lens = {1 << 20, 4096, 100, 8 << 20, (8 << 20) - 100 - 4096,
                                         3 << 20};
  auto w = s->create_writer(direct_uri(d.file("mix")));
  ASSERT_TRUE(w.ok());
  std::size_t off = 0;
  for (std::size_t len : lens) {
    ASSERT_TRUE((*w)->write(std::span<const std::byte>(src->data() + off, len)).ok()) << off;
    off += len;
  }
  ASSERT_TRUE((*w)->write(std::span<const std::byte>(src->data() + off, n - off)).ok());
  ASSERT_TRUE((*w)->finalize().ok());
  EXPECT_EQ(testutil::read_file(d.file("mix")), data);
}

TEST(DirectIo, UnalignedSourceMemoryIsWrittenCorrectly) {
  TempDir d;
  auto s = direct_store();
  auto data = testutil::pattern((3 << 20) + 100);
  Bytes b = Bytes::copy_of(data).slice(1);  // a misaligned view
  ASSERT_TRUE(s->put(direct_uri(d.file("mis")), b).ok());
  EXPECT_EQ(testutil::read_file(d.file("mis")),
            std::vector<std::byte>(data.begin() + 1, data.end()));
}

TEST(DirectIo, KeysNeverEscapeTheRoot) {
  TempDir d;
  FileSystemConfig cfg = FileSystemConfig::direct_io();
  cfg.root = d.path();
  auto s = direct_store(cfg);
  auto escape = s->put(direct_uri(d.path() + "/../evil"), Bytes::copy_of("x"));
  ASSERT_FALSE(escape.ok());
  EXPECT_EQ(escape.error().code(), ErrorCode::kInvalidArgument);
  auto outside = s->put("direct:///etc/omnio-evil", Bytes::copy_of("x"));
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(outside.error().message().find("outside"), std::string::npos);
  EXPECT_TRUE(s->put(direct_uri(d.path() + "/ok/inside"), Bytes::copy_of("x")).ok());
}

TEST(DirectIo, FallbackWhenODirectIsRefused) {
  TempDir d;
  auto data = testutil::pattern((1 << 20) + 5);
  testutil::write_file(d.file("fb"), data);
  testing::simulate_no_direct_io(true);
  const auto before = direct_io_fallback_count();
  {
    auto s = direct_store();
    auto got = s->get(direct_uri(d.file("fb")));
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(testutil::equal(*got, data));
    EXPECT_EQ(file_store_stats(*s).buffered_reads, 1u);
    ASSERT_TRUE(s->put(direct_uri(d.file("fb2")), *got).ok());
    EXPECT_EQ(testutil::read_file(d.file("fb2")), data);
    EXPECT_GE(direct_io_fallback_count(), before + 2);
  }
  {
    FileSystemConfig strict = FileSystemConfig::direct_io();
    strict.allow_buffered_fallback = false;
    auto s = direct_store(strict);
    auto got = s->get(direct_uri(d.file("fb")));
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(got.error().message().find("O_DIRECT"), std::string::npos);
  }
  testing::simulate_no_direct_io(false);
}

TEST(DirectIo, AlignmentDetection) {
  TempDir d;
  std::size_t a = detect_direct_io_alignment(d.path());
  EXPECT_TRUE(is_power_of_two(a));
  EXPECT_GE(a, kMinDirectIoAlignment);
  EXPECT_LE(a, kMaxDirectIoAlignment);
  FileSystemConfig bad = FileSystemConfig::direct_io();
  bad.alignment = 1000;
  auto s = make_file_store(bad, true);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("alignment"), std::string::npos);
}

TEST(DirectIo, PresetsMatchTheSeed) {
  auto c = FileSystemConfig::direct_io();
  EXPECT_TRUE(c.use_direct_io);
  EXPECT_TRUE(c.enable_range_engine);
  EXPECT_EQ(c.range_engine.chunk_size, 64u << 20);
  EXPECT_EQ(c.range_engine.max_concurrent_ranges, 16u);
  EXPECT_EQ(c.range_engine.min_split_size, 16u << 20);
  EXPECT_EQ(c.range_engine.range_timeout, std::chrono::seconds(30));
  auto h = FileSystemConfig::high_performance();
  EXPECT_TRUE(h.sync_writes);
  EXPECT_EQ(h.min_io_size, 64u << 10);
  EXPECT_FALSE(FileSystemConfig::buffered().enable_range_engine);
}

TEST(DirectIo, CancelledReadStops) {
  TempDir d;
  testutil::write_file(d.file("c"), testutil::pattern(32 << 20));
  auto s = direct_store();
  ReadOptions o;
  o.cancel.cancel();
  auto got = s->get(direct_uri(d.file("c")), o);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), ErrorCode::kCancelled);
}

}  // namespace
}  // namespace omnio
