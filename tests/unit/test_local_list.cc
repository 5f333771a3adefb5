// file:// listings: a directory large enough to be stat'ed on several threads lists every object
// once, with its own size, in URI order; what is not an object (fifos, dangling links) is left out.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "local_test_util.h"
#include "omnio/constants.h"
#include "omnio/store_factory.h"

namespace omnio {
namespace {

using testutil::TempDir;

struct Want {
  std::string uri;
  std::uint64_t size;
  bool operator==(const Want&) const = default;
};

std::vector<Want> listed(ObjectStore& store, const std::string& prefix, bool recursive) {
  std::vector<Want> got;
  Status s = store.list_stream(prefix, recursive, [&](ListEntry&& e) {
    got.push_back({e.uri, e.is_dir ? ~std::uint64_t{0} : e.size});
    return ok_status();
  });
  EXPECT_TRUE(s.ok()) << s.error().message();
  return got;
}

TEST(LocalList, LargeDirectoryEveryObjectOnceWithItsSizeInUriOrder) {
  TempDir dir;
  const std::string root = "file://" + dir.path() + "/";
  std::vector<Want> want;
  // More entries than kLocalListParallelStatMin, so the stats are split across threads; each file
  // has a size of its own so that a size landing on the wrong entry shows.
  const std::size_t n = kLocalListParallelStatMin + 777;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name = "f" + std::to_string(i);
    testutil::write_file(dir.file(name), testutil::pattern(i % 1000, i));
    want.push_back({root + name, i % 1000});
  }
  // Names that sort differently as names and as URIs: "a/x" comes after "a-b" and "a.c".
  std::filesystem::create_directories(dir.file("a"));
  testutil::write_file(dir.file("a/x"), testutil::pattern(3));
  testutil::write_file(dir.file("a-b"), testutil::pattern(4));
  testutil::write_file(dir.file("a.c"), testutil::pattern(5));
  want.push_back({root + "a/x", 3});
  want.push_back({root + "a-b", 4});
  want.push_back({root + "a.c", 5});
  // A link to a file lists with the target's size; a dangling link and a fifo are not objects.
  ASSERT_EQ(::symlink(dir.file("a.c").c_str(), dir.file("link").c_str()), 0);
  ASSERT_EQ(::symlink(dir.file("nowhere").c_str(), dir.file("dangling").c_str()), 0);
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0644), 0);
  want.push_back({root + "link", 5});
  std::sort(want.begin(), want.end(), [](const Want& a, const Want& b) { return a.uri < b.uri; });

  auto store = store_for_uri(root);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(listed(**store, root, /*recursive=*/true), want);

  // Not recursive: the directory once, as a prefix, between "a-b"/"a.c" and the "f" files.
  std::vector<Want> flat;
  for (const Want& w : want) {
    if (w.uri != root + "a/x") flat.push_back(w);
  }
  flat.push_back({root + "a/", ~std::uint64_t{0}});
  std::sort(flat.begin(), flat.end(), [](const Want& a, const Want& b) { return a.uri < b.uri; });
  EXPECT_EQ(listed(**store, root, /*recursive=*/false), flat);

  // A name prefix inside the large directory.
  std::vector<Want> f12;
  for (const Want& w : want) {
    if (w.uri.rfind(root + "f12", 0) == 0) f12.push_back(w);
  }
  ASSERT_FALSE(f12.empty());
  EXPECT_EQ(listed(**store, root + "f12", true), f12);
}

}  // namespace
}  // namespace omnio
