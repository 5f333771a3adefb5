// file:// get_batch through io_uring: which files the batched path reads itself (stats), the
// fallbacks it must take (a file larger than its buffer, no hint, O_DIRECT, io_uring turned off),
// per-file errors, slot reuse across many batches, and threads with rings of their own. Bytes are
// compared with what was written in every case.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <thread>

#include "backends/file/file_store.h"
#include "local_test_util.h"
#include "omnio/constants.h"
#include "omnio/store_factory.h"

namespace omnio {
namespace {

using testutil::TempDir;

// Lends 4 KiB-aligned buffers of the size asked, and remembers what it was asked and lent.
struct Lender {
  std::mutex mu;
  std::vector<std::uint64_t> asked;
  std::vector<const std::byte*> lent;
  BufferSource source() {
    return [this](std::uint64_t n) {
      auto b =
          AlignedBuffer::allocate(static_cast<std::size_t>(std::max<std::uint64_t>(n, 1)), 4096);
      if (!b.ok()) return Result<std::shared_ptr<AlignedBuffer>>(b.error());
      auto shared = std::make_shared<AlignedBuffer>(std::move(*b));
      std::lock_guard g(mu);
      asked.push_back(n);
      lent.push_back(shared->data());
      return Result<std::shared_ptr<AlignedBuffer>>(std::move(shared));
    };
  }
};

// A read of file `path` expecting `hint` bytes, its buffers from `lender`.
BatchRead read_of(const std::string& path, std::uint64_t hint, Lender& lender) {
  BatchRead r;
  r.uri = "file://" + path;
  r.size_hint = hint;
  r.buffer_for = lender.source();
  return r;
}

std::shared_ptr<ObjectStore> buffered_store() {
  return *make_file_store(FileSystemConfig::buffered(), false);
}

// The batched path's own tests; skipped, saying so, where the kernel refuses io_uring (a seccomp
// profile, kernel.io_uring_disabled), where get_batch reads one file at a time (that path is
// FileBatchOff's, and every backend's in the conformance suite).
class FileBatch : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::batched_file_reads_available()) {
      GTEST_SKIP()
          << "io_uring is refused in this process: file:// batches read one file at a time";
    }
  }
  void TearDown() override { testing::disable_batched_file_reads(false); }
};

class FileBatchOff : public ::testing::Test {
 protected:
  void TearDown() override { testing::disable_batched_file_reads(false); }
};

TEST_F(FileBatch, FilesThatFitTheirBuffersAreReadByTheBatchIntoThoseBuffers) {
  TempDir d;
  auto store = buffered_store();
  ASSERT_TRUE(store->reads_in_batches());
  std::vector<std::vector<std::byte>> data;
  std::vector<BatchRead> reads;
  Lender lender;
  // Sizes around the hint of 8192: below it, equal to it (the buffer is full: the one-byte probe
  // proves the end), and empty.
  const std::size_t sizes[] = {8192, 1, 8191, 0, 4096, 8192};
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    data.push_back(testutil::pattern(sizes[i], i + 1));
    testutil::write_file(d.file(fmt::format("f{}", i)), data.back());
    reads.push_back(read_of(d.file(fmt::format("f{}", i)), 8192, lender));
  }
  store->get_batch(reads);
  for (std::size_t i = 0; i < reads.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(reads[i].result.ok()) << reads[i].result.error().to_string();
    EXPECT_TRUE(testutil::equal(*reads[i].result, data[i]));
    if (sizes[i] > 0) {
      EXPECT_EQ(reads[i].result->data(), lender.lent[i]);  // no copy
    }
  }
  EXPECT_EQ(lender.asked, std::vector<std::uint64_t>(std::size(sizes), 8192));
  EXPECT_EQ(file_store_stats(*store).batched_reads, std::size(sizes));
}

TEST_F(FileBatch, AFileLargerThanItsBufferIsReadAgainIntoABufferOfItsSize) {
  TempDir d;
  auto store = buffered_store();
  const auto big = testutil::pattern(100000, 3);
  const auto small = testutil::pattern(5000, 4);
  testutil::write_file(d.file("big"), big);
  testutil::write_file(d.file("small"), small);
  Lender lender;
  std::vector<BatchRead> reads(2);
  reads[0].uri = "file://" + d.file("big");
  reads[1].uri = "file://" + d.file("small");
  for (auto& r : reads) {
    r.size_hint = 8192;
    r.buffer_for = lender.source();
  }
  store->get_batch(reads);
  EXPECT_EQ(file_store_stats(*store).batch_rereads, 1u);
  ASSERT_TRUE(reads[0].result.ok()) << reads[0].result.error().to_string();
  ASSERT_TRUE(reads[1].result.ok()) << reads[1].result.error().to_string();
  EXPECT_TRUE(testutil::equal(*reads[0].result, big));
  EXPECT_TRUE(testutil::equal(*reads[1].result, small));
  // The hint first for both, then the true size for the big one.
  EXPECT_EQ(lender.asked, (std::vector<std::uint64_t>{8192, 8192, 100000}));
  EXPECT_EQ(reads[0].result->data(), lender.lent[2]);
  EXPECT_EQ(file_store_stats(*store).batched_reads, 1u);
}

// Files expected to be larger than one I/O block, or of no expected size, are not batched: the
// usual path (block loop, RangeEngine) reads them, into the lent buffer.
TEST_F(FileBatch, LargeOrUnhintedFilesTakeTheUsualPath) {
  TempDir d;
  auto store = buffered_store();
  const auto big = testutil::pattern((2 << 20) + 5, 6);
  testutil::write_file(d.file("big"), big);
  Lender lender;
  std::vector<BatchRead> reads(2);
  for (auto& r : reads) {
    r.uri = "file://" + d.file("big");
    r.buffer_for = lender.source();
  }
  reads[0].size_hint = big.size();  // > io_block_size (1 MiB)
  reads[1].size_hint = 0;
  store->get_batch(reads);
  for (auto& r : reads) {
    ASSERT_TRUE(r.result.ok()) << r.result.error().to_string();
    EXPECT_TRUE(testutil::equal(*r.result, big));
  }
  EXPECT_EQ(lender.asked, (std::vector<std::uint64_t>{big.size(), big.size()}));
  EXPECT_EQ(file_store_stats(*store).batched_reads, 0u);
}

TEST_F(FileBatch, EachFailureIsItsOwnAndTheOthersAreRead) {
  TempDir d;
  auto store = buffered_store();
  const auto a = testutil::pattern(3000, 5);
  testutil::write_file(d.file("a"), a);
  std::filesystem::create_directories(d.file("dir"));
  Lender lender;
  const std::string uris[] = {"file://" + d.file("a"), "file://" + d.file("missing"),
                              "file://" + d.file("dir"), "file://" + d.file("a"),
                              "s3://bucket/key"};
  std::vector<BatchRead> reads(std::size(uris));
  for (std::size_t i = 0; i < reads.size(); ++i) {
    reads[i].uri = uris[i];
    reads[i].size_hint = 4096;
    reads[i].buffer_for = lender.source();
  }
  store->get_batch(reads);
  ASSERT_TRUE(reads[0].result.ok()) << reads[0].result.error().to_string();
  EXPECT_TRUE(testutil::equal(*reads[0].result, a));
  ASSERT_FALSE(reads[1].result.ok());
  EXPECT_EQ(reads[1].result.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(reads[1].result.error().to_string().find("missing"), std::string::npos)
      << reads[1].result.error().to_string();
  ASSERT_FALSE(reads[2].result.ok());
  EXPECT_EQ(reads[2].result.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(reads[2].result.error().to_string().find("is a directory"), std::string::npos)
      << reads[2].result.error().to_string();
  ASSERT_TRUE(reads[3].result.ok()) << reads[3].result.error().to_string();
  EXPECT_TRUE(testutil::equal(*reads[3].result, a));
  ASSERT_FALSE(reads[4].result.ok());
  EXPECT_EQ(reads[4].result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(file_store_stats(*store).batched_reads, 2u);
}

TEST_F(FileBatch, ManyMoreFilesThanOneSubmissionHoldsReuseTheSlots) {
  TempDir d;
  auto store = buffered_store();
  const std::size_t n = kFileBatchReadMax * 5 + 3;
  std::vector<std::vector<std::byte>> data;
  std::vector<BatchRead> reads(n);
  Lender lender;
  for (std::size_t i = 0; i < n; ++i) {
    data.push_back(testutil::pattern(1000 + i * 37, i));
    testutil::write_file(d.file(fmt::format("m{}", i)), data.back());
    reads[i].uri = "file://" + d.file(fmt::format("m{}", i));
    reads[i].size_hint = 8192;
    reads[i].buffer_for = lender.source();
  }
  for (int round = 0; round < 3; ++round) {
    store->get_batch(reads);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(reads[i].result.ok()) << i << ": " << reads[i].result.error().to_string();
      ASSERT_TRUE(testutil::equal(*reads[i].result, data[i])) << i;
    }
  }
  EXPECT_EQ(file_store_stats(*store).batched_reads, 3 * n);
}

TEST_F(FileBatch, ThreadsBatchOnRingsOfTheirOwn) {
  TempDir d;
  auto store = buffered_store();
  const std::size_t files = 40;
  std::vector<std::vector<std::byte>> data;
  for (std::size_t i = 0; i < files; ++i) {
    data.push_back(testutil::pattern(20000 + i, i + 100));
    testutil::write_file(d.file(fmt::format("t{}", i)), data.back());
  }
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Lender lender;
      for (int round = 0; round < 25; ++round) {
        std::vector<BatchRead> reads(4);
        for (std::size_t k = 0; k < reads.size(); ++k) {
          const std::size_t i = (static_cast<std::size_t>(t * 7 + round * 4) + k) % files;
          reads[k].uri = "file://" + d.file(fmt::format("t{}", i));
          reads[k].size_hint = 32768;
          reads[k].buffer_for = lender.source();
        }
        store->get_batch(reads);
        for (std::size_t k = 0; k < reads.size(); ++k) {
          const std::size_t i = (static_cast<std::size_t>(t * 7 + round * 4) + k) % files;
          if (!reads[k].result.ok() || !testutil::equal(*reads[k].result, data[i])) ++bad;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(file_store_stats(*store).batched_reads, 4u * 25 * 4);
}

// A ring belongs to the process that made it: a child of fork() that batches makes its own (it
// used to be unable to submit to the inherited one).
TEST_F(FileBatch, AChildOfForkBatchesOnARingOfItsOwn) {
  TempDir d;
  auto store = buffered_store();
  const auto a = testutil::pattern(30000, 11);
  testutil::write_file(d.file("a"), a);
  Lender lender;
  std::vector<BatchRead> reads(3);
  for (auto& r : reads) {
    r.uri = "file://" + d.file("a");
    r.size_hint = 30000;
    r.buffer_for = lender.source();
  }
  store->get_batch(reads);  // this thread's ring exists now
  ASSERT_TRUE(reads[0].result.ok());
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::uint64_t before = file_store_stats(*store).batched_reads;
    store->get_batch(reads);
    bool good = file_store_stats(*store).batched_reads == before + reads.size();
    for (auto& r : reads) good = good && r.result.ok() && testutil::equal(*r.result, a);
    ::_exit(good ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's batch failed or was not batched";
}

TEST_F(FileBatchOff, WithoutTheBatchedPathTheSameBatchReadsTheSameBytes) {
  TempDir d;
  const auto a = testutil::pattern(70000, 9);
  testutil::write_file(d.file("a"), a);
  // Turned off (tests, A/B runs), O_DIRECT, and kDontNeed all read one file at a time.
  FileSystemConfig direct = FileSystemConfig::direct_io();
  FileSystemConfig dontneed = FileSystemConfig::buffered();
  dontneed.page_cache_mode = PageCacheMode::kDontNeed;
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    testing::disable_batched_file_reads(variant == 0);
    auto store = variant == 0   ? buffered_store()
                 : variant == 1 ? *make_file_store(direct, true)
                                : *make_file_store(dontneed, false);
    EXPECT_FALSE(store->reads_in_batches());
    Lender lender;
    std::vector<BatchRead> reads(2);
    for (auto& r : reads) {
      r.uri = "file://" + d.file("a");
      r.size_hint = 70000;
      r.buffer_for = lender.source();
    }
    store->get_batch(reads);
    for (auto& r : reads) {
      ASSERT_TRUE(r.result.ok()) << r.result.error().to_string();
      EXPECT_TRUE(testutil::equal(*r.result, a));
    }
    EXPECT_EQ(file_store_stats(*store).batched_reads, 0u);
  }
}

// Where the kernel refuses io_uring (the CTest unit.no_io_uring runs this binary under a seccomp
// filter, tests/support/no_io_uring.cc), batches read one file at a time and say so: the same
// bytes, nothing batched, and reads_in_batches() false so that the loader reads items singly.
// Skipped where io_uring works; unit.no_io_uring fails if it is skipped there.
TEST(FileBatchRefused, WhereTheKernelRefusesIoUringEveryFileIsReadOneAtATime) {
  if (testing::batched_file_reads_available()) {
    GTEST_SKIP() << "io_uring works in this process; unit.no_io_uring runs this test without it";
  }
  TempDir d;
  auto store = buffered_store();
  EXPECT_FALSE(store->reads_in_batches());
  // Sizes below, at and above the hint, an empty file, and a missing one.
  const std::size_t sizes[] = {100, 8192, 20000, 0};
  std::vector<std::vector<std::byte>> data;
  std::vector<BatchRead> reads;
  Lender lender;
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    data.push_back(testutil::pattern(sizes[i], i + 3));
    testutil::write_file(d.file(fmt::format("f{}", i)), data.back());
    reads.push_back(read_of(d.file(fmt::format("f{}", i)), 8192, lender));
  }
  reads.push_back(read_of(d.file("missing"), 8192, lender));
  store->get_batch(reads);
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(reads[i].result.ok()) << reads[i].result.error().to_string();
    EXPECT_TRUE(testutil::equal(*reads[i].result, data[i]));
  }
  ASSERT_FALSE(reads.back().result.ok());
  EXPECT_EQ(reads.back().result.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(file_store_stats(*store).batched_reads, 0u);
}

}  // namespace
}  // namespace omnio
