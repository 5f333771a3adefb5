// StreamWriter against an in-memory RawSink (unit test of our own logic).
#include <gtest/gtest.h>
#include <zstd.h>

#include <vector>

#include "core/stream_writer.h"
#include "omnio/crc32c.h"

namespace omnio {
namespace {

struct MemorySink : RawSink {
  std::vector<std::byte>* out;
  int* commits;
  int* aborts;
  int fail_after = -1;
  int appends = 0;
  Status append(std::span<const std::byte> d) override {
    if (fail_after >= 0 && appends++ >= fail_after)
      return Error(ErrorCode::kResourceExhausted, "full");
    out->insert(out->end(), d.begin(), d.end());
    return ok_status();
  }
  Status commit() override {
    ++*commits;
    return ok_status();
  }
  Status abort() override {
    ++*aborts;
    return ok_status();
  }
};

struct Harness {
  std::vector<std::byte> out;
  int commits = 0, aborts = 0;
  std::string opened;
  int fail_after = -1;
  RawSinkOpener opener() {
    return [this](const std::string& uri) -> Result<std::unique_ptr<RawSink>> {
      opened = uri;
      auto s = std::make_unique<MemorySink>();
      s->out = &out;
      s->commits = &commits;
      s->aborts = &aborts;
      s->fail_after = fail_after;
      return std::unique_ptr<RawSink>(std::move(s));
    };
  }
};

std::vector<std::byte> text(std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::byte("the quick brown fox "[i % 20]);
  return v;
}

TEST(StreamWriter, PlainWriteCrcAndCommit) {
  Harness h;
  auto w = make_stream_writer("file:///x/a.bin", {}, h.opener());
  ASSERT_TRUE(w.ok());
  auto data = text(100000);
  ASSERT_TRUE((*w)->write(std::span(data).first(1)).ok());
  ASSERT_TRUE((*w)->write(std::span(data).subspan(1)).ok());
  ASSERT_TRUE((*w)->finalize().ok());
  ASSERT_TRUE((*w)->finalize().ok());  // second finalize is a no-op
  EXPECT_EQ(h.commits, 1);
  EXPECT_EQ(h.out, data);
  EXPECT_EQ((*w)->bytes_written(), data.size());
  EXPECT_EQ((*w)->stored_bytes(), data.size());
  EXPECT_EQ((*w)->crc32c(), crc32c(data));
  EXPECT_EQ((*w)->checksum(), format_crc32c(crc32c(data)));
  EXPECT_EQ(h.opened, "file:///x/a.bin");
  EXPECT_FALSE((*w)->write(std::span(data).first(1)).ok());  // write after finalize
}

TEST(StreamWriter, ZstdRoundTripAndNaming) {
  Harness h;
  WriterOptions o;
  o.zstd_level = 3;
  auto w = make_stream_writer("s3://b/a.bin", o, h.opener());
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(h.opened, "s3://b/a.bin.zst");
  auto data = text(1 << 20);
  for (std::size_t off = 0; off < data.size(); off += 4096) {
    ASSERT_TRUE((*w)->write(std::span(data).subspan(off, 4096)).ok());
  }
  ASSERT_TRUE((*w)->finalize().ok());
  EXPECT_LT((*w)->stored_bytes(), data.size() / 10);
  EXPECT_EQ((*w)->stored_bytes(), h.out.size());
  EXPECT_EQ((*w)->crc32c(), crc32c(data));  // of the uncompressed stream
  std::vector<std::byte> back(data.size());
  std::size_t n = ZSTD_decompress(back.data(), back.size(), h.out.data(), h.out.size());
  ASSERT_FALSE(ZSTD_isError(n));
  EXPECT_EQ(n, data.size());
  EXPECT_EQ(back, data);

  Harness h2;
  auto w2 = make_stream_writer("s3://b/a.zst", o, h2.opener());
  ASSERT_TRUE(w2.ok());
  EXPECT_EQ(h2.opened, "s3://b/a.zst");  // never ".zst.zst"
}

TEST(StreamWriter, BadLevel) {
  Harness h;
  WriterOptions o;
  o.zstd_level = 23;
  auto w = make_stream_writer("s3://b/a", o, h.opener());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(w.error().message().find("1..22"), std::string::npos);
}

TEST(StreamWriter, CancelAndDestroyAbort) {
  Harness h;
  {
    auto w = make_stream_writer("s3://b/a", {}, h.opener());
    ASSERT_TRUE((*w)->write(text(10)).ok());
    ASSERT_TRUE((*w)->cancel().ok());
    EXPECT_FALSE((*w)->finalize().ok());
  }
  EXPECT_EQ(h.aborts, 1);
  EXPECT_EQ(h.commits, 0);
  {
    auto w = make_stream_writer("s3://b/a", {}, h.opener());
    ASSERT_TRUE((*w)->write(text(10)).ok());
  }  // destroyed without finalize
  EXPECT_EQ(h.aborts, 2);
  EXPECT_EQ(h.commits, 0);
}

TEST(StreamWriter, FailedAppendAbortsAndReports) {
  Harness h;
  h.fail_after = 1;
  auto w = make_stream_writer("s3://b/a", {}, h.opener());
  ASSERT_TRUE((*w)->write(text(10)).ok());
  auto s = (*w)->write(text(10));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_FALSE((*w)->finalize().ok());
  EXPECT_EQ(h.commits, 0);
  EXPECT_EQ(h.aborts, 1);
}

}  // namespace
}  // namespace omnio
