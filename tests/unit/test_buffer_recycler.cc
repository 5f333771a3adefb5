// BufferRecycler: equal-sized buffers come back for reuse, the idle set is bounded, a size change
// drops stale buffers, and buffers outliving the recycler are simply freed.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "core/buffer_recycler.h"
#include "omnio/constants.h"

namespace omnio {
namespace {

TEST(BufferRecycler, ReleasedBufferIsReusedForTheSameSize) {
  auto r = BufferRecycler::create(2, 4096);
  auto a = r->acquire(3 * kMiB);
  ASSERT_TRUE(a.ok());
  std::byte* first = (*a)->data();
  EXPECT_EQ((*a)->size(), 3 * kMiB);
  a->reset();
  EXPECT_EQ(r->idle(), 1u);
  auto b = r->acquire(3 * kMiB);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->data(), first);
  EXPECT_EQ(r->idle(), 0u);
}

TEST(BufferRecycler, IdleSetIsBoundedAndSizeChangeDropsStaleBuffers) {
  auto r = BufferRecycler::create(2, 4096);
  std::vector<std::shared_ptr<AlignedBuffer>> held;
  for (int i = 0; i < 5; ++i) held.push_back(*r->acquire(64 * 1024));
  held.clear();
  EXPECT_EQ(r->idle(), 2u);
  auto bigger = r->acquire(128 * 1024);
  ASSERT_TRUE(bigger.ok());
  EXPECT_EQ((*bigger)->size(), 128u * 1024);
  EXPECT_EQ(r->idle(), 0u);  // the 64 KiB ones are gone
}

TEST(BufferRecycler, BuffersOutlivingTheRecyclerAreFreed) {
  std::shared_ptr<AlignedBuffer> survivor;
  {
    auto r = BufferRecycler::create(4, 4096);
    survivor = *r->acquire(2 * kMiB);
    survivor->data()[0] = std::byte{42};
  }
  EXPECT_EQ(survivor->data()[0], std::byte{42});
  survivor.reset();  // ASan reports a leak or double free if this goes wrong
}

TEST(BufferRecycler, ConcurrentAcquireAndRelease) {
  auto r = BufferRecycler::create(3, 4096);
  std::vector<std::jthread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&r, t] {
      for (int i = 0; i < 200; ++i) {
        auto b = r->acquire(256 * 1024);
        ASSERT_TRUE(b.ok());
        (*b)->data()[0] = std::byte(t);
        EXPECT_EQ((*b)->data()[0], std::byte(t));
      }
    });
  }
  threads.clear();
  EXPECT_LE(r->idle(), 3u);
}

}  // namespace
}  // namespace omnio
