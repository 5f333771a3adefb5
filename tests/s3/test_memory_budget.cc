// The process memory budget holds when a loader, a multipart upload and a streaming ranged GET
// run at the same time against a real S3 server (Ceph radosgw): with a 256 MiB budget the
// process's peak RSS stays within budget + kMemoryBudgetOverhead and everything finishes with
// every byte right; without a budget the same work needs far more (so the bound is not trivial).
// Each gtest case runs in its own process under ctest, and the peak RSS counter (VmHWM) is reset
// at the start of the scenario.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "omnio/crc32c.h"
#include "omnio/loader.h"
#include "omnio/memory_budget.h"
#include "omnio/store_factory.h"
#include "s3/s3_test_env.h"

namespace omnio {
namespace {

constexpr const char* kBucket = "omnio-budget";
constexpr std::uint64_t kBudget = 256 * kMiB;
constexpr std::size_t kLoaderFiles = 16;
constexpr std::size_t kLoaderFileSize = 24 * kMiB;
constexpr std::uint64_t kUploadSize = 384 * kMiB;
constexpr std::uint64_t kGetSize = 384 * kMiB;

std::uint64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// Deterministic bytes for offset `off` of stream `seed`, generated in 1 MiB pieces.
void fill(std::vector<std::byte>& buf, std::uint64_t seed, std::uint64_t off) {
  for (std::size_t i = 0; i < buf.size(); i += 8) {
    const std::uint64_t v = (seed * 0x9E3779B97F4A7C15ull) ^ ((off + i) * 0xBF58476D1CE4E5B9ull);
    std::memcpy(buf.data() + i, &v, std::min<std::size_t>(8, buf.size() - i));
  }
}

struct ScenarioResult {
  std::uint64_t peak_rss = 0;
  MemoryBudgetStats budget;
};

class MemoryBudgetScenario : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::s3_test_servers().front();  // radosgw
    if (!server_.skip_reason.empty()) GTEST_SKIP() << server_.skip_reason;
    auto s = store_for_uri("s3://x", server_.config());
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    s3_ = *s;
    ASSERT_TRUE(s3_->create_container(std::string("s3://") + kBucket).ok());
    prefix_ = fmt::format("s3://{}/{}/", kBucket, ::getpid());
    dir_ = std::filesystem::temp_directory_path() / fmt::format("omnio-budget-{}", ::getpid());
    std::filesystem::create_directories(dir_);
    // The loader's data set: local files. The GET's object: uploaded before the scenario.
    std::vector<std::byte> piece(kMiB);
    for (std::size_t f = 0; f < kLoaderFiles; ++f) {
      std::ofstream out(dir_ / fmt::format("item-{:03}", f), std::ios::binary);
      for (std::size_t off = 0; off < kLoaderFileSize; off += kMiB) {
        fill(piece, f, off);
        out.write(reinterpret_cast<const char*>(piece.data()), static_cast<std::streamsize>(kMiB));
      }
    }
    auto w = s3_->create_writer(prefix_ + "get-me", {});
    ASSERT_TRUE(w.ok()) << w.error().to_string();
    for (std::uint64_t off = 0; off < kGetSize; off += kMiB) {
      fill(piece, 1000, off);
      get_crc_ = crc32c_update(get_crc_, piece);
      ASSERT_TRUE((*w)->write(piece).ok());
    }
    ASSERT_TRUE((*w)->finalize().ok());
  }
  void TearDown() override {
    if (s3_) (void)s3_->delete_prefix(prefix_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Runs the three together; every byte is checked. The budget limit is set by the caller.
  ScenarioResult run() {
    MemoryBudget::process().reset_stats();
    reset_peak_rss();
    std::atomic<bool> upload_ok{false}, get_ok{false}, load_ok{false};
    std::thread upload([&] {
      auto w = s3_->create_writer(prefix_ + "upload", {});
      if (!w.ok()) return ADD_FAILURE() << w.error().to_string();
      std::vector<std::byte> piece(kMiB);
      std::uint32_t crc = 0;
      for (std::uint64_t off = 0; off < kUploadSize; off += kMiB) {
        fill(piece, 2000, off);
        crc = crc32c_update(crc, piece);
        auto st = (*w)->write(piece);
        if (!st.ok()) return ADD_FAILURE() << st.error().to_string();
      }
      auto st = (*w)->finalize();
      if (!st.ok()) return ADD_FAILURE() << st.error().to_string();
      // Read back (streamed) and compare checksums: the upload is whole.
      std::uint32_t back = 0;
      auto g = s3_->get_to_sink(prefix_ + "upload", [&](std::uint64_t, Bytes b) {
        back = crc32c_update(back, b.span());
        return ok_status();
      });
      if (!g.ok()) return ADD_FAILURE() << g.error().to_string();
      EXPECT_EQ(back, crc);
      upload_ok = true;
    });
    std::thread get([&] {
      std::uint32_t crc = 0;
      auto g = s3_->get_to_sink(prefix_ + "get-me", [&](std::uint64_t, Bytes b) {
        crc = crc32c_update(crc, b.span());
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a slower consumer
        return ok_status();
      });
      if (!g.ok()) return ADD_FAILURE() << g.error().to_string();
      EXPECT_EQ(crc, get_crc_);
      get_ok = true;
    });
    std::thread load([&] {
      auto ds = Dataset::from_prefix("file://" + dir_.string() + "/");
      if (!ds.ok()) return ADD_FAILURE() << ds.error().to_string();
      auto conf = LoaderConfig::Builder().batch_size(2).pool_size(8).readahead_batches(8).build();
      if (!conf.ok()) return ADD_FAILURE() << conf.error().to_string();
      auto loader = DataLoader::create(*ds, *conf);
      if (!loader.ok()) return ADD_FAILURE() << loader.error().to_string();
      EXPECT_TRUE((*loader)->start_epoch(0).ok());
      std::size_t items = 0;
      std::vector<std::byte> piece(kMiB);
      while (true) {
        auto b = (*loader)->next();
        if (!b.ok()) return ADD_FAILURE() << b.error().to_string();
        if (!*b) break;
        for (const auto& item : (*b)->items) {
          const std::string name = std::filesystem::path(item.uri).filename().string();
          const std::size_t f = std::stoul(name.substr(5));
          EXPECT_EQ(item.data.size(), kLoaderFileSize);
          fill(piece, f, kLoaderFileSize - kMiB);  // the last MiB is enough to catch a mix-up
          EXPECT_EQ(std::memcmp(item.data.data() + kLoaderFileSize - kMiB, piece.data(), kMiB), 0);
          ++items;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the training step
      }
      EXPECT_EQ(items, kLoaderFiles);
      load_ok = true;
    });
    upload.join();
    get.join();
    load.join();
    EXPECT_TRUE(upload_ok && get_ok && load_ok);
    return ScenarioResult{peak_rss_bytes(), MemoryBudget::process().stats()};
  }

  testing::S3TestServer server_;
  std::shared_ptr<ObjectStore> s3_;
  std::string prefix_;
  std::filesystem::path dir_;
  std::uint32_t get_crc_ = 0;
};

TEST_F(MemoryBudgetScenario, LoaderUploadAndRangedGetStayWithinA256MiBBudget) {
  MemoryBudget::process().set_limit(kBudget);
  const ScenarioResult r = run();
  std::printf("budget %llu MiB: peak RSS %.1f MiB, peak reserved %.1f MiB, %llu waits (%.2f s)\n",
              static_cast<unsigned long long>(kBudget >> 20),
              static_cast<double>(r.peak_rss) / kMiB, static_cast<double>(r.budget.peak) / kMiB,
              static_cast<unsigned long long>(r.budget.waits),
              std::chrono::duration<double>(r.budget.wait_time).count());
  EXPECT_LE(r.budget.peak, kBudget);
  EXPECT_LE(r.peak_rss, kBudget + kMemoryBudgetOverhead);
  EXPECT_GT(r.budget.waits, 0u);  // the work did press against the budget
}

// The same work without a limit: shows the scenario needs more than the bound asserted above.
TEST_F(MemoryBudgetScenario, WithoutABudgetTheSameWorkNeedsMore) {
  MemoryBudget::process().set_limit(0);
  const ScenarioResult r = run();
  std::printf("no budget: peak RSS %.1f MiB, peak reserved %.1f MiB\n",
              static_cast<double>(r.peak_rss) / kMiB, static_cast<double>(r.budget.peak) / kMiB);
  EXPECT_GT(r.peak_rss, kBudget + kMemoryBudgetOverhead);
  EXPECT_GT(r.budget.peak, kBudget);
}

}  // namespace
}  // namespace omnio
