// Streamed listings, per-object delete reports and the resume check on file://
// (ObjectStore::list_stream, delete_objects, delete_prefix_report; already_copied; BatchReport).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "local_test_util.h"
#include "omnio/store_factory.h"
#include "omnio/transfer.h"

namespace omnio {
namespace {

using testutil::TempDir;

void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

std::shared_ptr<ObjectStore> local() { return *store_for_uri("file:///"); }

// Streamed entries come in exactly list_entries' (sorted) order, including the case where a
// directory's children sort after siblings that share its name as a prefix ("a/x" after "a-b").
TEST(ListStream, SameOrderAsSortedListing) {
  TempDir d;
  for (const char* f : {"a/x", "a/y/z", "a-b", "a.c", "a0", "b", "ab/c"}) write(d.file(f), f);
  auto store = local();
  const std::string prefix = "file://" + d.path() + "/";
  for (bool recursive : {true, false}) {
    std::vector<std::string> streamed;
    ASSERT_TRUE(store
                    ->list_stream(prefix, recursive,
                                  [&](ListEntry&& e) {
                                    streamed.push_back(e.uri);
                                    return ok_status();
                                  })
                    .ok());
    auto listed = store->list(prefix, recursive);
    ASSERT_TRUE(listed.ok());
    EXPECT_EQ(streamed, *listed);
    EXPECT_TRUE(std::is_sorted(streamed.begin(), streamed.end()));
    EXPECT_EQ(streamed.size(), recursive ? 7u : 6u);
  }
}

TEST(ListStream, SinkErrorStopsTheListing) {
  TempDir d;
  for (const char* f : {"a", "b", "c"}) write(d.file(f), f);
  int seen = 0;
  Status s = local()->list_stream("file://" + d.path() + "/", true, [&](ListEntry&&) {
    return ++seen == 2 ? Status(Error(ErrorCode::kCancelled, "enough")) : ok_status();
  });
  EXPECT_EQ(s.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(seen, 2);
}

TEST(DeleteReport, CountsEachObjectAndRemovesEmptiedDirectories) {
  TempDir d;
  for (const char* f : {"p/a", "p/s/b", "p/s/t/c", "q"}) write(d.file(f), f);
  auto r = local()->delete_prefix_report("file://" + d.path() + "/p/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->succeeded, 3u);
  EXPECT_TRUE(r->complete());
  EXPECT_FALSE(std::filesystem::exists(d.file("p/s")));
  EXPECT_TRUE(std::filesystem::exists(d.file("p")));  // the prefix's own directory stays
  EXPECT_TRUE(std::filesystem::exists(d.file("q")));
}

TEST(DeleteReport, DeleteObjectsReportsEveryMissingOneAsPartial) {
  TempDir d;
  write(d.file("a"), "a");
  write(d.file("b"), "b");
  const std::string base = "file://" + d.path() + "/";
  BatchReport r = local()->delete_objects({base + "a", base + "nope", base + "b"});
  EXPECT_EQ(r.succeeded, 2u);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].first, base + "nope");
  EXPECT_EQ(r.failures[0].second.code(), ErrorCode::kNotFound);
  EXPECT_TRUE(r.partial());
  EXPECT_FALSE(std::filesystem::exists(d.file("a")));
}

TEST(DeleteReport, CancelledBeforeStartDeletesNothing) {
  TempDir d;
  write(d.file("p/a"), "a");
  CancellationToken t;
  t.cancel();
  auto r = local()->delete_prefix_report("file://" + d.path() + "/p/", t);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->succeeded, 0u);
  EXPECT_EQ(r->cancelled(), 1u);
  EXPECT_TRUE(std::filesystem::exists(d.file("p/a")));
}

TEST(BatchReportTest, NotStartedIsCancelledAndNotComplete) {
  BatchReport r;
  r.succeeded = 2;
  r.not_started = 3;
  EXPECT_FALSE(r.complete());
  EXPECT_TRUE(r.partial());
  EXPECT_EQ(r.cancelled(), 3u);
  Status s = r.status("cp");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kCancelled);
  EXPECT_NE(s.error().to_string().find("3 of 5 failed"), std::string::npos)
      << s.error().to_string();
}

TEST(AlreadyCopied, LocalUsesSizeThenCrc) {
  TempDir d;
  write(d.file("src"), "hello world");
  auto store = local();
  const std::string src = "file://" + d.file("src"), dst = "file://" + d.file("dst");
  auto check = [&](SkipPolicy p) {
    auto v = already_copied(*store, src, *store, dst, p, 16 << 20);
    EXPECT_TRUE(v.ok()) << v.error().to_string();
    return *v;
  };
  EXPECT_FALSE(check(SkipPolicy::kSizeAndChecksum).skip);
  EXPECT_EQ(check(SkipPolicy::kSizeAndChecksum).reason, "missing");
  write(d.file("dst"), "hello");
  EXPECT_EQ(check(SkipPolicy::kSizeAndChecksum).reason, "size differs");
  write(d.file("dst"), "hello WORLD");  // same size, other bytes
  EXPECT_FALSE(check(SkipPolicy::kSizeAndChecksum).skip);
  EXPECT_EQ(check(SkipPolicy::kSizeAndChecksum).reason, "size equal, crc32c differs");
  EXPECT_TRUE(check(SkipPolicy::kSizeOnly).skip);  // what --size-only trades away
  write(d.file("dst"), "hello world");
  EXPECT_TRUE(check(SkipPolicy::kSizeAndChecksum).skip);
}

}  // namespace
}  // namespace omnio
