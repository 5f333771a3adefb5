// gs:// paths the firebase emulator cannot exercise, against tests/support/gcs_fake.py (one fake
// per test, so its fault knobs never leak): multi-chunk resumable uploads, resume from the
// committed offset after a failed chunk, session cancel on error/cancel, 416, bucket
// create/delete/list, rewrite over several calls, CRC32C mismatch -> kDataLoss, every list page.
#include <gtest/gtest.h>

#include "backends/gcs/gcs_store.h"
#include "conformance/object_store_suite.h"
#include "gcs/gcs_test_env.h"
#include "omnio/crc32c.h"
#include "omnio/store_factory.h"

namespace omnio {
namespace {

using conformance::pattern_bytes;

#define ASSERT_OK(expr)                                              \
  do {                                                               \
    auto&& r_ = (expr);                                              \
    ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().to_string(); \
  } while (0)

class GcsFakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.ok()) << "tests/support/gcs_fake.py did not start";
    store_ = make(fake_.config());
    ASSERT_OK(store_->create_container("gs://bk"));
  }
  std::shared_ptr<ObjectStore> make(Config c) {
    c.gcs.retry.base_delay = std::chrono::milliseconds(5);
    c.gcs.retry.max_delay = std::chrono::milliseconds(50);
    auto s = store_for_uri("gs://bk", c);
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return s.ok() ? *s : nullptr;
  }
  Config small_uploads() {
    Config c = fake_.config();
    c.gcs.single_upload_threshold = 256 * 1024;
    c.gcs.upload_chunk_size = 256 * 1024;
    return c;
  }
  testing::GcsFake fake_;
  std::shared_ptr<ObjectStore> store_;
};

TEST_F(GcsFakeTest, ResumableUploadInManyChunks) {
  auto s = make(small_uploads());
  Bytes data = pattern_bytes(3 * 1024 * 1024 + 5);
  ASSERT_OK(s->put("gs://bk/big", data));
  EXPECT_EQ(*s->get("gs://bk/big"), data);
  EXPECT_EQ(fake_.stat("sessions"), 1);
  EXPECT_EQ(fake_.stat("chunks"), 13);  // 12 x 256 KiB + the 5-byte tail
  // Chunk sizes not a multiple of 256 KiB are rounded up (the fake rejects others).
  ASSERT_OK(s->put_multipart("gs://bk/mp", data, 300 * 1000, {}));
  EXPECT_EQ(*s->get("gs://bk/mp"), data);
}

TEST_F(GcsFakeTest, WriterStreamsChunksAndIsInvisibleUntilFinalize) {
  auto s = make(small_uploads());
  Bytes data = pattern_bytes(1024 * 1024 + 17);
  auto w = s->create_writer("gs://bk/w");
  ASSERT_OK(w);
  for (std::size_t off = 0; off < data.size(); off += 100000)
    ASSERT_OK((*w)->write(data.slice(off, 100000)));
  EXPECT_FALSE(*s->exists("gs://bk/w"));
  ASSERT_OK((*w)->finalize());
  EXPECT_EQ(*s->get("gs://bk/w"), data);
  EXPECT_EQ(fake_.stat("sessions"), 1);
  EXPECT_EQ(fake_.stat("sessions_cancelled"), 0);
}

// Regression (found by tests/cross/cp_matrix.sh): a full chunk went out as soon as it filled, so a
// stream of exactly one chunk became a resumable session and one of exactly N chunks ended with an
// empty finalizing request. Now: one chunk = one media upload; N chunks = N requests.
TEST_F(GcsFakeTest, WriterOfExactChunkMultiplesSendsNoExtraRequests) {
  auto s = make(small_uploads());  // 256 KiB chunks, 256 KiB single-upload threshold
  auto write = [&](const std::string& u, const Bytes& data) {
    auto w = s->create_writer(u);
    ASSERT_OK(w);
    for (std::size_t off = 0; off < data.size(); off += 100000)
      ASSERT_OK((*w)->write(data.slice(off, 100000)));
    ASSERT_OK((*w)->finalize());
    EXPECT_EQ(*s->get(u), data);
  };
  write("gs://bk/one", pattern_bytes(256 * 1024));
  EXPECT_EQ(fake_.stat("sessions"), 0);
  EXPECT_EQ(fake_.stat("media_uploads") + fake_.stat("multipart_uploads"), 1);
  write("gs://bk/two", pattern_bytes(2 * 256 * 1024));
  EXPECT_EQ(fake_.stat("sessions"), 1);
  EXPECT_EQ(fake_.stat("chunks"), 2);
}

TEST_F(GcsFakeTest, FailedChunkResumesFromTheCommittedOffset) {
  auto s = make(small_uploads());
  // Two chunks persist only half of their bytes and answer 503.
  ASSERT_OK(fake_.configure(R"({"fail_chunks": 2, "commit_fraction": 0.5})"));
  Bytes data = pattern_bytes(4 * 1024 * 1024 + 1);
  ASSERT_OK(s->put_multipart("gs://bk/resumed", data, 1024 * 1024, {}));
  EXPECT_EQ(*s->get("gs://bk/resumed"), data);
  EXPECT_EQ(fake_.stat("chunk_faults"), 2);
  EXPECT_EQ(fake_.stat("status_queries"), 2);
  EXPECT_EQ(fake_.stat("sessions"), 1) << "resumed, not restarted";
}

TEST_F(GcsFakeTest, WriterResumesToo) {
  auto s = make(small_uploads());
  ASSERT_OK(fake_.configure(R"({"fail_chunks": 1, "commit_fraction": 0.0})"));
  Bytes data = pattern_bytes(700 * 1024);
  auto w = s->create_writer("gs://bk/wr");
  ASSERT_OK(w);
  ASSERT_OK((*w)->write(data));
  ASSERT_OK((*w)->finalize());
  EXPECT_EQ(*s->get("gs://bk/wr"), data);
  EXPECT_EQ(fake_.stat("chunk_faults"), 1);
}

TEST_F(GcsFakeTest, PersistentChunkFailureCancelsTheSessionAndNothingAppears) {
  auto s = make(small_uploads());
  ASSERT_OK(fake_.configure(R"({"fail_chunks": 1000, "commit_fraction": 0.0})"));
  auto st = s->put("gs://bk/never", pattern_bytes(1024 * 1024));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable) << st.error().to_string();
  EXPECT_EQ(fake_.stat("sessions_cancelled"), 1);
  EXPECT_FALSE(*s->exists("gs://bk/never"));
}

TEST_F(GcsFakeTest, WriterCancelAndDropCancelTheSession) {
  auto s = make(small_uploads());
  {
    auto w = s->create_writer("gs://bk/c1");
    ASSERT_OK(w);
    ASSERT_OK((*w)->write(pattern_bytes(600 * 1024)));  // two chunks out: the session exists
    ASSERT_OK((*w)->cancel());
  }
  {
    auto w = s->create_writer("gs://bk/c2");
    ASSERT_OK(w);
    ASSERT_OK((*w)->write(pattern_bytes(600 * 1024)));
  }
  EXPECT_EQ(fake_.stat("sessions"), 2);
  EXPECT_EQ(fake_.stat("sessions_cancelled"), 2);
  EXPECT_TRUE(s->list("gs://bk/", true)->empty());
}

TEST_F(GcsFakeTest, RangePastTheEndIs416AndOutOfRange) {
  Bytes data = pattern_bytes(1000);
  ASSERT_OK(store_->put("gs://bk/r", data));
  auto beyond = store_->get_range("gs://bk/r", 1001, 10);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.error().code(), ErrorCode::kOutOfRange) << beyond.error().to_string();
  auto at_end = store_->get_range("gs://bk/r", 1000, 10);
  ASSERT_OK(at_end);
  EXPECT_EQ(at_end->size(), 0u);
}

TEST_F(GcsFakeTest, ReadPathSendsNoMetadataGet) {
  Config c = fake_.config();
  c.gcs.range_engine.chunk_size = 64 * 1024;
  c.gcs.range_engine.min_split_size = 1;
  auto s = make(c);
  Bytes data = pattern_bytes(200 * 1024);
  ASSERT_OK(s->put("gs://bk/n", data));
  EXPECT_EQ(*s->get("gs://bk/n"), data);
  auto st = gcs_store_stats(*s);
  EXPECT_EQ(st.metadata_gets, 0u);
  EXPECT_EQ(st.media_gets, 4u);  // 200 KiB in 64 KiB ranges
}

TEST_F(GcsFakeTest, BucketsCreateListDelete) {
  ASSERT_OK(store_->create_container("gs://newb"));
  ASSERT_OK(store_->create_container("gs://newb"));  // already ours
  auto l = store_->list_containers("gs://");
  ASSERT_OK(l);
  EXPECT_EQ(*l, (std::vector<std::string>{"gs://bk", "gs://newb"}));
  ASSERT_OK(store_->put("gs://newb/o", pattern_bytes(3)));
  auto busy = store_->delete_container("gs://newb");
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code(), ErrorCode::kInvalidArgument) << busy.error().to_string();
  ASSERT_OK(store_->delete_object("gs://newb/o"));
  ASSERT_OK(store_->delete_container("gs://newb"));
  EXPECT_EQ(store_->delete_container("gs://newb").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->create_container("gs://newb/key").error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(GcsFakeTest, CopyLoopsOverRewriteCallsUntilDone) {
  ASSERT_OK(fake_.configure(R"({"rewrite_bytes_per_call": 1000})"));
  Bytes data = pattern_bytes(10000);
  ASSERT_OK(store_->put("gs://bk/src", data));
  ASSERT_OK(store_->copy("gs://bk/src", "gs://bk/dst"));
  EXPECT_EQ(*store_->get("gs://bk/dst"), data);
  EXPECT_EQ(fake_.stat("rewrite_calls"), 10);
  EXPECT_EQ(store_->copy("gs://bk/missing", "gs://bk/x").error().code(), ErrorCode::kNotFound);
}

TEST_F(GcsFakeTest, Crc32cMismatchIsDataLossOnWholeObjectReads) {
  Bytes data = pattern_bytes(100 * 1024);
  ASSERT_OK(store_->put("gs://bk/crc", data));
  ASSERT_OK(store_->get("gs://bk/crc"));
  ASSERT_OK(fake_.configure(R"({"bad_crc": true})"));
  auto whole = store_->get("gs://bk/crc");
  ASSERT_FALSE(whole.ok());
  EXPECT_EQ(whole.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(whole.error().message().find("CRC32C"), std::string::npos) << whole.error().to_string();
  // Ranged (multi-request) reads of the whole object, the sink path and get_into check it too.
  Config c = fake_.config();
  c.gcs.range_engine.chunk_size = 16 * 1024;
  auto ranged = make(c);
  EXPECT_EQ(ranged->get("gs://bk/crc").error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(ranged->get_to_sink("gs://bk/crc", [](std::uint64_t, Bytes) { return ok_status(); })
                .error()
                .code(),
            ErrorCode::kDataLoss);
  std::vector<std::byte> buf(data.size());
  EXPECT_EQ(ranged->get_into("gs://bk/crc", 0, buf).error().code(), ErrorCode::kDataLoss);
  // A part of the object cannot be checked against the object's CRC: returned as is.
  auto part = store_->get_range("gs://bk/crc", 10, 100);
  ASSERT_OK(part);
  EXPECT_EQ(*part, data.slice(10, 100));
  // Verification can be turned off.
  c.gcs.verify_crc32c = false;
  EXPECT_EQ(*make(c)->get("gs://bk/crc"), data);
}

TEST_F(GcsFakeTest, ListFollowsEveryPage) {
  ASSERT_OK(fake_.configure(R"({"max_results_cap": 100})"));
  std::vector<std::string> want;
  for (int i = 0; i < 1050; ++i) {
    std::string u = fmt::format("gs://bk/many/{:05d}", i);
    want.push_back(u);
    ASSERT_OK(store_->put(u, Bytes::copy_of(std::string_view("x"))));
  }
  auto l = store_->list("gs://bk/many/", true);
  ASSERT_OK(l);
  EXPECT_EQ(*l, want);
  EXPECT_EQ(fake_.stat("list_pages"), 11);
  auto n = store_->delete_prefix("gs://bk/many/");
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1050u);
  EXPECT_TRUE(store_->list("gs://bk/many/", true)->empty());
}

// Google pages objects and common prefixes together, in name order: a delimiter listing over
// many pages streams in order with each directory once.
TEST_F(GcsFakeTest, DelimiterListingStreamsInOrderAcrossPages) {
  ASSERT_OK(fake_.configure(R"({"max_results_cap": 7})"));
  std::vector<std::string> want;
  for (int i = 0; i < 60; ++i) {
    const std::string obj = fmt::format("gs://bk/d/k{:03d}", i);
    ASSERT_OK(store_->put(obj, Bytes::copy_of(std::string_view("x"))));
    want.push_back(obj);
    if (i % 4 == 0) {  // "d/k000x/" sorts between "d/k000" and "d/k001"
      for (const char* child : {"a", "b"}) {
        ASSERT_OK(
            store_->put(fmt::format("{}x/{}", obj, child), Bytes::copy_of(std::string_view("y"))));
      }
      want.push_back(obj + "x/");
    }
  }
  std::vector<std::string> streamed;
  ASSERT_OK(store_->list_stream("gs://bk/d/", false, [&](ListEntry&& e) {
    streamed.push_back(std::move(e.uri));
    return ok_status();
  }));
  EXPECT_EQ(streamed, want);
  EXPECT_GE(fake_.stat("list_pages"), 10);
  EXPECT_EQ(*store_->list("gs://bk/d/", false), want);
}

TEST_F(GcsFakeTest, MetadataAndContentTypeTravelWithTheObject) {
  PutOptions o;
  o.content_type = "text/plain";
  o.metadata = {{"owner", "omnio"}};
  ASSERT_OK(store_->put("gs://bk/meta", Bytes::copy_of(std::string_view("hello")), o));
  auto m = store_->stat("gs://bk/meta");
  ASSERT_OK(m);
  EXPECT_EQ(m->content_type, "text/plain");
  EXPECT_EQ(m->metadata.at("owner"), "omnio");
  auto s = make(small_uploads());
  ASSERT_OK(s->put("gs://bk/meta-big", pattern_bytes(600 * 1024), o));
  m = s->stat("gs://bk/meta-big");
  ASSERT_OK(m);
  EXPECT_EQ(m->content_type, "text/plain");
  EXPECT_EQ(m->metadata.at("owner"), "omnio");
}

}  // namespace
}  // namespace omnio
