// Workload runners (include/omnio/workload.h) on file:// and direct://: exact count and sizes,
// every object generated on its own (no two equal), seeds reproduce bytes, templates name objects,
// streamed large objects equal whole ones, the get runner reads back the byte total, key lists.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <set>

#include "local_test_util.h"
#include "omnio/store_factory.h"
#include "omnio/workload.h"

namespace omnio {
namespace {

using testutil::read_file;
using testutil::TempDir;

std::shared_ptr<ObjectStore> store_for(const std::string& uri) {
  auto s = store_for_uri(uri);
  EXPECT_TRUE(s.ok()) << s.error().to_string();
  return *s;
}

WorkloadReport run_put(const PutWorkloadOptions& o) {
  auto store = store_for(o.prefix);
  auto r = run_put_workload(*store, o);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->batch.failures.empty()) << r->batch.status("put").error().to_string();
  return *r;
}

TEST(Workload, TemplateExpansion) {
  EXPECT_EQ(*expand_name_template("object_{}_of_{}.dat", 3, 10), "object_3_of_10.dat");
  EXPECT_EQ(*expand_name_template("shard-{}", 7, 10), "shard-7");
  EXPECT_EQ(*expand_name_template("fixed", 7, 10), "fixed");
  EXPECT_FALSE(expand_name_template("a{}{}{}", 1, 2).ok());
  EXPECT_FALSE(expand_name_template("a{0}", 1, 2).ok());
  EXPECT_FALSE(expand_name_template("", 1, 2).ok());
}

TEST(Workload, PutWritesDistinctExactObjects) {
  for (const std::string scheme : {"file", "direct"}) {
    TempDir dir;
    PutWorkloadOptions o;
    o.prefix = scheme + "://" + dir.path() + "/run/";
    o.count = 12;
    o.size = 4095;
    o.seed = 5;
    o.jobs = 4;
    std::atomic<int> objects{0};
    std::atomic<std::uint64_t> bytes{0};
    auto store = store_for(o.prefix);
    WorkloadCallbacks cb;
    cb.on_object = [&] { ++objects; };
    cb.on_bytes = [&](std::uint64_t n) { bytes += n; };
    auto r = run_put_workload(*store, o, {}, cb);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->objects, 12u);
    EXPECT_EQ(r->bytes, 12u * 4095);
    EXPECT_EQ(bytes.load(), r->bytes);
    EXPECT_EQ(objects.load(), 12);
    EXPECT_EQ(r->seed, 5u);
    EXPECT_GT(r->seconds, 0);
    std::set<std::vector<std::byte>> distinct;
    for (int i = 0; i < 12; ++i) {
      auto data = read_file(dir.file("run/object_" + std::to_string(i) + "_of_12.dat"));
      EXPECT_EQ(data.size(), 4095u);
      distinct.insert(data);
    }
    EXPECT_EQ(distinct.size(), 12u) << scheme;
  }
}

TEST(Workload, SeedReproducesAndUnseededDiffers) {
  TempDir dir;
  PutWorkloadOptions o;
  o.count = 3;
  o.size = 100000;
  o.name_template = "x{}";
  o.seed = 77;
  o.prefix = "file://" + dir.path() + "/a/";
  run_put(o);
  o.prefix = "file://" + dir.path() + "/b/";
  run_put(o);
  o.seed.reset();
  o.prefix = "file://" + dir.path() + "/c/";
  const auto r = run_put(o);
  EXPECT_NE(r.seed, 77u);
  for (int i = 0; i < 3; ++i) {
    const auto n = "/x" + std::to_string(i);
    EXPECT_EQ(read_file(dir.path() + "/a" + n), read_file(dir.path() + "/b" + n));
    EXPECT_NE(read_file(dir.path() + "/a" + n), read_file(dir.path() + "/c" + n));
  }
}

TEST(Workload, LargeObjectsStreamWithTheSameBytes) {
  // Above kWorkloadWholeObjectMaxSize objects go through a writer in chunks; the bytes must be
  // what the one-pass path gives for the same seed and index.
  TempDir dir;
  PutWorkloadOptions o;
  o.prefix = "direct://" + dir.path() + "/big/";
  o.count = 2;
  o.size = kWorkloadWholeObjectMaxSize + 12345;
  o.seed = 9;
  o.format.format = ObjectFormat::kTfRecord;
  o.format.samples = 3;
  o.write_index = true;
  o.jobs = 2;
  const auto r = run_put(o);
  DataGenOptions p;
  p.size = o.size;
  p.seed = 9;
  p.object_index = 1;
  auto g = *FormattedGenerator::create(o.format, p);
  std::vector<std::byte> expect(static_cast<std::size_t>(g.size()));
  ASSERT_TRUE(g.fill_all(expect).ok());
  EXPECT_EQ(read_file(dir.file("big/object_1_of_2.tfrecord")), expect);
  const auto idx = read_file(dir.file("big/object_1_of_2.tfrecord.idx"));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(idx.data()), idx.size()), g.index());
  EXPECT_EQ(r.bytes, 2 * (g.size() + g.index().size()));
  EXPECT_EQ(r.objects, 2u);
}

TEST(Workload, GetReadsEveryObject) {
  TempDir dir;
  PutWorkloadOptions o;
  o.prefix = "file://" + dir.path() + "/g/";
  o.count = 20;
  o.size = 3000;
  o.format.format = ObjectFormat::kNpz;
  const auto put = run_put(o);
  auto store = store_for(o.prefix);
  auto uris = list_objects(*store, o.prefix);
  ASSERT_TRUE(uris.ok());
  ASSERT_EQ(uris->size(), 20u);
  auto r = run_get_workload(*uris, 3, Config{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->objects, 20u);
  EXPECT_EQ(r->bytes, put.bytes);
  EXPECT_TRUE(r->batch.failures.empty());
  // A missing object is reported, the rest are still read.
  uris->push_back("file://" + dir.path() + "/g/missing");
  r = run_get_workload(*uris, 3, Config{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->objects, 20u);
  ASSERT_EQ(r->batch.failures.size(), 1u);
  EXPECT_EQ(r->batch.failures[0].second.code(), ErrorCode::kNotFound);
}

TEST(Workload, KeyList) {
  auto r = parse_keylist("  file:///a/b \n\n# comment\r\nfile:///c\r\n  \ns3://b/k");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"file:///a/b", "file:///c", "s3://b/k"}));
  auto bad = parse_keylist("file:///a\nrelative/path\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().to_string().find("line 2"), std::string::npos);
}

TEST(Workload, BadOptions) {
  PutWorkloadOptions o;
  o.prefix = "file:///tmp/x/";
  o.jobs = 0;
  EXPECT_EQ(o.validate().error().code(), ErrorCode::kInvalidArgument);
  o.jobs = 1;
  o.dedup_factor = 0;
  EXPECT_FALSE(o.validate().ok());
  o.dedup_factor = 1;
  o.write_index = true;
  EXPECT_FALSE(o.validate().ok());
  o.write_index = false;
  o.name_template = "a{}{}{}";
  EXPECT_FALSE(o.validate().ok());
  EXPECT_FALSE(run_get_workload({"file:///x"}, 0, Config{}).ok());
}

}  // namespace
}  // namespace omnio
