// BufferRecycler: buffers come back for items of equal or nearly equal size, much larger ones are
// left for larger items, the idle set is bounded (oldest out), idle buffers give their budget to a
// request that needs it, and buffers outliving the recycler are simply freed.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "core/buffer_recycler.h"
#include "omnio/cancel.h"
#include "omnio/constants.h"
#include "omnio/memory_budget.h"
#include "process_budget.h"

namespace omnio {
namespace {

using testutil::ProcessBudget;

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

TEST(BufferRecycler, ANearlyEqualSizeReusesAnIdleBuffer) {
  // Items of a data set differ by a few percent: each must not get fresh memory.
  auto r = BufferRecycler::create(2, 4096);
  auto a = r->acquire(10 * kMiB);
  ASSERT_TRUE(a.ok());
  std::byte* first = (*a)->data();
  (*a)->data()[9 * kMiB] = std::byte{7};
  a->reset();
  auto b = r->acquire(9 * kMiB);  // smaller, within a quarter
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->data(), first);
  EXPECT_EQ((*b)->size(), 9 * kMiB);
  EXPECT_EQ(r->idle(), 0u);
  b->reset();
  auto c = r->acquire(10 * kMiB + 1);  // larger than any idle buffer: fresh
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->size(), 10 * kMiB + 1);
  EXPECT_GE((*c)->capacity(), 10 * kMiB + 1);
  EXPECT_EQ(r->idle(), 1u);  // the 10 MiB one stays for a later item
}

TEST(BufferRecycler, AMuchLargerIdleBufferIsLeftForLargerItems) {
  auto r = BufferRecycler::create(2, 4096);
  auto big = r->acquire(16 * kMiB);
  ASSERT_TRUE(big.ok());
  big->reset();
  auto small = r->acquire(4 * kMiB);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ((*small)->capacity(), 4 * kMiB);
  EXPECT_EQ(r->idle(), 1u);  // the 16 MiB buffer was not taken
  small->reset();
  auto big2 = r->acquire(15 * kMiB);  // best fit: the 16 MiB one, not the 4 MiB one
  ASSERT_TRUE(big2.ok());
  EXPECT_EQ((*big2)->capacity(), 16 * kMiB);
  EXPECT_EQ(r->idle(), 1u);
}

TEST(BufferRecycler, IdleSetIsBoundedOldestGoesFirst) {
  auto r = BufferRecycler::create(2, 4096);
  std::vector<std::shared_ptr<AlignedBuffer>> held;
  for (std::size_t mib : {2, 4, 8}) held.push_back(*r->acquire(mib * kMiB));
  held.clear();  // returned 2, 4, 8 MiB in that order: the 2 MiB one is evicted
  EXPECT_EQ(r->idle(), 2u);
  auto a = r->acquire(4 * kMiB);
  auto b = r->acquire(8 * kMiB);
  EXPECT_EQ(r->idle(), 0u);  // both were idle
  auto c = r->acquire(2 * kMiB);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(r->idle(), 0u);
}

TEST(BufferRecycler, IdleBuffersAreFreedWhenTheBudgetIsSpent) {
  // Idle buffers hold budget: a request that does not fit beside them frees them instead of
  // waiting forever for memory nobody will return.
  ProcessBudget budget(24 * kMiB);
  auto r = BufferRecycler::create(4, 4096);
  auto a = r->acquire(8 * kMiB);
  auto b = r->acquire(8 * kMiB);
  ASSERT_TRUE(a.ok() && b.ok());
  a->reset();
  b->reset();
  EXPECT_EQ(r->idle(), 2u);
  EXPECT_EQ(MemoryBudget::process().stats().reserved, 16 * kMiB);
  CancellationToken cancel, done;
  std::jthread guard([&] {  // a wait for memory ends as a failed test, not a stuck one
    if (done.sleep_for(std::chrono::seconds(10))) cancel.cancel();
  });
  auto c = r->acquire(20 * kMiB, cancel);
  done.cancel();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(r->idle(), 0u);
  EXPECT_EQ(MemoryBudget::process().stats().reserved, 20 * kMiB);
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

// With slabs (the DataLoader on buffered file://), fresh mid-sized buffers are cut back to back
// from one huge-page-aligned mapping that lives as long as the last of them, and the budget is not
// charged (it does not charge buffers of these sizes); sizes outside the range, and recyclers
// without slabs, take buffers of their own.
TEST(BufferRecycler, MidSizedBuffersAreCutFromOneHugePageSlabThatLivesAsLongAsTheyDo) {
  ProcessBudget budget(64 * kMiB);
  const std::size_t slabs_before = BufferRecycler::live_slabs();
  const std::size_t n = kRecyclerSlabSize / (128 * kKiB);
  std::vector<std::shared_ptr<AlignedBuffer>> held;
  {
    auto r = BufferRecycler::create(2 * n, 4096, true);
    for (std::size_t i = 0; i < n; ++i) {
      auto b = i % 2 == 0 ? r->acquire(128 * kKiB) : r->try_acquire(128 * kKiB);
      ASSERT_TRUE(b.ok() && *b);
      std::memset((*b)->data(), static_cast<int>(i), 128 * kKiB);
      held.push_back(*b);
    }
    const auto base = reinterpret_cast<std::uintptr_t>(held[0]->data());
    EXPECT_EQ(base % kRecyclerSlabSize, 0u);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(held[i]->data()), base + i * 128 * kKiB);
      EXPECT_EQ(held[i]->capacity(), 128 * kKiB);
      EXPECT_EQ(held[i]->reserved_bytes(), 0u);
    }
    EXPECT_EQ(BufferRecycler::live_slabs(), slabs_before + 1);
    auto next = r->acquire(100 * kKiB);  // the slab is full: a second one
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(BufferRecycler::live_slabs(), slabs_before + 2);
    EXPECT_EQ((*next)->size(), 100 * kKiB);
    // Outside the slab range: buffers of their own.
    auto small = r->acquire(kRecyclerSlabMinItem - 1);
    auto large = r->acquire(kRecyclerSlabMaxItem + 4096);
    ASSERT_TRUE(small.ok() && large.ok());
    EXPECT_EQ(BufferRecycler::live_slabs(), slabs_before + 2);
    EXPECT_EQ(MemoryBudget::process().stats().reserved, 0u);
  }  // the recycler is gone, and the second slab with its only buffer; ours keep theirs alive
  EXPECT_EQ(BufferRecycler::live_slabs(), slabs_before + 1);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(held[i]->data()[0], std::byte(i));
    EXPECT_EQ(held[i]->data()[128 * kKiB - 1], std::byte(i));
  }
  held.resize(1);
  EXPECT_EQ(BufferRecycler::live_slabs(), slabs_before + 1);  // one buffer still holds it
  held.clear();
  EXPECT_EQ(BufferRecycler::live_slabs(), slabs_before);
  // Without slabs: a buffer of its own.
  auto plain = BufferRecycler::create(4, 4096);
  auto b = plain->acquire(128 * kKiB);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(BufferRecycler::live_slabs(), slabs_before);
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
