// PodVector (realloc-grown arrays) and the Dataset's compact per-item arrays: every URI reads back
// exactly as it was added, whatever prefix it shares with the others.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/pod_vector.h"
#include "loader/dataset_items.h"
#include "omnio/loader.h"
#include "omnio/object_store.h"
#include "omnio/store_factory.h"

namespace omnio {
namespace {

TEST(PodVector, GrowsKeepingEveryValueAndCopiesAndMovesWhole) {
  PodVector<std::uint64_t> v;
  EXPECT_TRUE(v.empty());
  // Past glibc's mmap threshold (128 KiB), where realloc moves pages instead of copying.
  for (std::uint64_t i = 0; i < 100'000; ++i) v.push_back(i * 3 + 1);
  ASSERT_EQ(v.size(), 100'000u);
  for (std::uint64_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], i * 3 + 1) << i;
  const std::uint64_t more[] = {7, 8, 9};
  v.append(more, 3);
  EXPECT_EQ(v.size(), 100'003u);
  EXPECT_EQ(v.back(), 9u);
  PodVector<std::uint64_t> copy = v;
  v[0] = 42;
  EXPECT_EQ(copy[0], 1u) << "a copy shares no memory";
  EXPECT_EQ(copy[100'001], 8u);
  PodVector<std::uint64_t> moved = std::move(copy);
  EXPECT_EQ(moved.size(), 100'003u);
  EXPECT_EQ(copy.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  moved.truncate(10);
  EXPECT_EQ(moved.size(), 10u);
  EXPECT_EQ(moved[9], 28u);
  moved.truncate(20);  // never grows
  EXPECT_EQ(moved.size(), 10u);
  moved = PodVector<std::uint64_t>();
  EXPECT_TRUE(moved.empty());
}

using loader_detail::DatasetItems;

std::string key_of(const DatasetItems& items, std::size_t i) {
  return items.base + std::string(items.tail(items.keys[i]));
}

TEST(DatasetItems, UrisOutsideTheBaseRebaseOnceAndEveryKeyStaysExact) {
  DatasetItems items;
  items.base = "s3://bucket/train/";
  const std::vector<std::string> uris = {
      "s3://bucket/train/a.bin",
      "s3://bucket/train/sub/b.bin",
      "s3://bucket/train/",
      "s3://bucket/val/c.bin",  // outside the base: every tail takes it back
      "file:///x",
      "s3://bucket/train/d.bin",
      ""};
  for (std::size_t i = 0; i < uris.size(); ++i) {
    items.add(uris[i], static_cast<std::uint32_t>(i % 2));
    for (std::size_t k = 0; k <= i; ++k) ASSERT_EQ(key_of(items, k), uris[k]) << i << "/" << k;
  }
  EXPECT_EQ(items.base, "");
  EXPECT_EQ(items.keys[3].store, 1u);
  EXPECT_EQ(items.keys[4].store, 0u);
}

TEST(DatasetItems, ACommonBaseIsStoredOnce) {
  DatasetItems items;
  items.base = "file:///data/set/";
  for (int i = 0; i < 1000; ++i) items.add("file:///data/set/obj_" + std::to_string(i), 0);
  EXPECT_EQ(items.base, "file:///data/set/");
  EXPECT_LT(items.tails.size(), 1000u * 8);
  EXPECT_EQ(key_of(items, 999), "file:///data/set/obj_999");
}

// Dataset built from URIs of several schemes and no common directory: key(i), key_into and
// keys() give back each URI as given, and each item's store serves its scheme.
TEST(DatasetItems, DatasetKeysReadBackExactlyWithTheirStores) {
  const std::vector<std::string> uris = {"file:///tmp/omnio-ds/a", "file:///tmp/omnio-ds/b",
                                         "direct:///tmp/omnio-ds/a", "file:///tmp/other/c",
                                         "file:///tmp/omnio-ds/a"};
  auto ds = Dataset::from_uris(uris);
  ASSERT_TRUE(ds.ok()) << ds.error().to_string();
  ASSERT_EQ(ds->size(), uris.size());
  EXPECT_EQ(ds->keys(), uris);
  std::string reused = "some earlier, longer contents of the string";
  for (std::size_t i = 0; i < uris.size(); ++i) {
    EXPECT_EQ(ds->key(i), uris[i]);
    ds->key_into(i, reused);
    EXPECT_EQ(reused, uris[i]);
    EXPECT_EQ(ds->store_of(i).scheme(), i == 2 ? "direct" : "file") << i;
    EXPECT_FALSE(ds->listed_size(i));
    EXPECT_FALSE(ds->range_of(i));
  }
  const Dataset copy = *ds;  // copies share the arrays
  EXPECT_EQ(copy.keys(), uris);
  EXPECT_EQ(Dataset().size(), 0u);
}

}  // namespace
}  // namespace omnio
