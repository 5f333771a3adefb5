#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "omnio/aligned_buffer.h"
#include "omnio/bytes.h"
#include "omnio/crc32c.h"

namespace omnio {
namespace {

TEST(Crc32c, StandardCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(format_crc32c(0xE3069283u), "crc32c:e3069283");
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, IncrementalEqualsOneShot) {
  std::vector<std::byte> v(100000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::byte(i * 131 % 251);
  std::uint32_t whole = crc32c(v);
  std::uint32_t inc = 0;
  for (std::size_t off = 0; off < v.size(); off += 777) {
    inc = crc32c_update(inc, std::span(v).subspan(off, std::min<std::size_t>(777, v.size() - off)));
  }
  EXPECT_EQ(whole, inc);
  // RFC 3720 B.4: 32 bytes of zeros.
  std::vector<std::byte> zeros(32);
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
}

TEST(Bytes, SliceSharesOwnerNoCopy) {
  std::vector<std::byte> v(64);
  std::iota(reinterpret_cast<unsigned char*>(v.data()),
            reinterpret_cast<unsigned char*>(v.data()) + 64, 0);
  const std::byte* raw = v.data();
  Bytes b = Bytes::from_vector(std::move(v));
  EXPECT_EQ(b.data(), raw);  // storage moved, not copied
  Bytes s = b.slice(10, 5);
  EXPECT_EQ(s.data(), raw + 10);
  EXPECT_EQ(s.size(), 5u);
  EXPECT_EQ(std::to_integer<int>(s[0]), 10);
  b = Bytes();
  EXPECT_EQ(std::to_integer<int>(s[4]), 14);  // still alive through the slice
  EXPECT_EQ(s.slice(3).size(), 2u);
  EXPECT_EQ(s.slice(99).size(), 0u);
}

TEST(Bytes, EqualityAndStrings) {
  EXPECT_EQ(Bytes::copy_of("abc"), Bytes::copy_of("abc"));
  EXPECT_FALSE(Bytes::copy_of("abc") == Bytes::copy_of("abd"));
  EXPECT_EQ(Bytes::copy_of("hello").slice(1, 3).to_string(), "ell");
  EXPECT_TRUE(Bytes().empty());
}

TEST(AlignedBuffer, AlignmentAndCapacity) {
  auto b = AlignedBuffer::allocate(5000, 4096);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b->data()) % 4096, 0u);
  EXPECT_EQ(b->size(), 5000u);
  EXPECT_EQ(b->capacity(), 8192u);
  Bytes bytes = Bytes::from_aligned(std::move(*b));
  EXPECT_EQ(bytes.size(), 5000u);
  EXPECT_FALSE(AlignedBuffer::allocate(10, 3000).ok());
  EXPECT_EQ(align_up(4097, 4096), 8192u);
  EXPECT_EQ(align_down(4097, 4096), 4096u);
}

TEST(AlignedBuffer, HeapBuffersOfEveryAlignmentAreAlignedAndWholeAfterMoves) {
  for (std::size_t align : {16, 64, 512, 4096, 65536}) {
    for (std::size_t size : {1, 4095, 4097, 100000, 700000}) {
      auto b = AlignedBuffer::allocate(size, align);
      ASSERT_TRUE(b.ok()) << b.error().to_string();
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b->data()) % align, 0u) << align;
      EXPECT_FALSE(b->mapped());
      std::memset(b->data(), 0x5a, b->capacity());  // the whole capacity is ours (ASan checks)
      AlignedBuffer moved = std::move(*b);
      AlignedBuffer again;
      again = std::move(moved);
      EXPECT_EQ(again.data()[again.capacity() - 1], std::byte{0x5a});
    }
  }
}

TEST(AlignedBuffer, LargeBuffersAreMappedAndOutliveTheirOwnerInBytes) {
  auto small = AlignedBuffer::allocate(kLargeBufferThreshold / 2, 4096);
  ASSERT_TRUE(small.ok());
  EXPECT_FALSE(small->mapped());
  auto big = AlignedBuffer::allocate(kLargeBufferThreshold + 1, 4096);
  ASSERT_TRUE(big.ok());
  EXPECT_TRUE(big->mapped());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(big->data()) % 4096, 0u);
  EXPECT_EQ(big->capacity(), align_up(kLargeBufferThreshold + 1, 4096));
  for (std::size_t i = 0; i < big->size(); ++i) big->data()[i] = std::byte(i % 251);
  // Moving keeps the mapping; Bytes owns it until the last slice goes.
  AlignedBuffer moved = std::move(*big);
  EXPECT_TRUE(moved.mapped());
  EXPECT_FALSE(big->mapped());
  Bytes all = Bytes::from_aligned(std::move(moved));
  Bytes tail = all.slice(kLargeBufferThreshold - 10, 11);
  all = Bytes();
  ASSERT_EQ(tail.size(), 11u);
  for (std::size_t i = 0; i < tail.size(); ++i) {
    EXPECT_EQ(tail.data()[i], std::byte((kLargeBufferThreshold - 10 + i) % 251)) << i;
  }
}

}  // namespace
}  // namespace omnio
