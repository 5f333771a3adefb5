// Data generator throughput against memcpy on the same machine, in one run.
//
//   omnio_bench_datagen [size_mib=1024] [reps=5]
//
// Prints a markdown table: for memcpy and for each (dedup, compress) case, single- and
// multi-threaded GB/s (median of `reps` runs into a pre-faulted buffer) and the ratio to memcpy
// with the same thread count; generate() including allocation and page faults; streaming fill()
// in 1 MiB chunks into one reused buffer (cache-resident: the generator's compute ceiling); and the
// zstd -3 and dedup ratios of the output, so a speed-up that broke the contract shows at once.
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "omnio/aligned_buffer.h"
#include "omnio/constants.h"
#include "omnio/datagen.h"

namespace {

using Clock = std::chrono::steady_clock;

template <typename F>
double median_seconds(int reps, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto start = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double gbps(std::size_t bytes, double seconds) {
  return static_cast<double>(bytes) / seconds / 1e9;
}

omnio::AlignedBuffer faulted_buffer(std::size_t size) {
  auto b = omnio::AlignedBuffer::allocate(size, omnio::kDataGenBufferAlignment);
  if (!b.ok()) {
    std::fprintf(stderr, "allocate %zu: %s\n", size, b.error().to_string().c_str());
    std::exit(1);
  }
  std::memset(b->data(), 1, size);  // fault every page in, outside the timed region
  return std::move(*b);
}

void parallel_memcpy(std::byte* dst, const std::byte* src, std::size_t n, std::size_t threads) {
  const std::size_t piece = (n + threads - 1) / threads;
  std::vector<std::jthread> workers;
  for (std::size_t i = 1; i < threads && i * piece < n; ++i) {
    workers.emplace_back(
        [=] { std::memcpy(dst + i * piece, src + i * piece, std::min(piece, n - i * piece)); });
  }
  std::memcpy(dst, src, std::min(piece, n));
}

void check(const omnio::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.error().to_string().c_str());
    std::exit(1);
  }
}

double zstd_ratio(std::span<const std::byte> data) {
  std::vector<char> out(ZSTD_compressBound(data.size()));
  const std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(n)) return 0;
  return static_cast<double>(data.size()) / static_cast<double>(n);
}

double dedup_ratio(std::span<const std::byte> data, std::size_t block) {
  std::unordered_set<std::string_view> unique;
  std::size_t blocks = 0;
  for (std::size_t off = 0; off < data.size(); off += block, ++blocks) {
    unique.emplace(reinterpret_cast<const char*>(data.data()) + off,
                   std::min(block, data.size() - off));
  }
  return static_cast<double>(blocks) / static_cast<double>(unique.size());
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t size = (argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024) * omnio::kMiB;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  const std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t check_size = std::min<std::size_t>(size, 64 * omnio::kMiB);

  omnio::AlignedBuffer src = faulted_buffer(size);
  omnio::AlignedBuffer dst = faulted_buffer(size);
  omnio::AlignedBuffer chunk = faulted_buffer(omnio::kMiB);

  std::vector<std::size_t> thread_counts = {1};
  if (hw > 1) thread_counts.push_back(hw);

  std::printf("omnio_bench_datagen: %zu MiB buffers, median of %d runs, %zu hardware threads\n\n",
              size / omnio::kMiB, reps, hw);
  std::printf(
      "| case | threads | fill GB/s | vs memcpy | generate() GB/s (incl. alloc + faults) | "
      "stream 1 MiB chunks GB/s | zstd -3 ratio | dedup ratio |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");

  std::vector<double> memcpy_gbps;
  for (std::size_t t : thread_counts) {
    const double s =
        median_seconds(reps, [&] { parallel_memcpy(dst.data(), src.data(), size, t); });
    memcpy_gbps.push_back(gbps(size, s));
    std::printf("| memcpy | %zu | %.2f | 1.00 | | | | |\n", t, memcpy_gbps.back());
  }

  struct Case {
    std::size_t dedup, compress;
  };
  for (const Case c : {Case{1, 1}, Case{1, 2}, Case{4, 1}, Case{2, 4}}) {
    omnio::DataGenOptions o;
    o.size = size;
    o.dedup_factor = c.dedup;
    o.compress_factor = c.compress;
    o.seed = 2024;
    for (std::size_t i = 0; i < thread_counts.size(); ++i) {
      o.threads = thread_counts[i];
      const double fill =
          gbps(size, median_seconds(reps, [&] { check(omnio::generate_into(o, dst.span())); }));
      const double one_shot = gbps(size, median_seconds(reps, [&] {
                                     auto b = omnio::generate(o);
                                     if (!b.ok()) check(b.error());
                                   }));
      double stream = 0;
      if (i == 0) {  // streaming is a single-threaded consumer's view
        stream = gbps(size, median_seconds(reps, [&] {
                        auto g = omnio::DataGenerator::create(o);
                        if (!g.ok()) check(g.error());
                        while (g->remaining() > 0) (void)g->fill(chunk.span());
                      }));
      }
      // Ratios of a 64 MiB object with the same options, as zstd and a 1 MiB dedup engine see it.
      auto co = o;
      co.size = check_size;
      check(omnio::generate_into(co, dst.span().first(check_size)));
      const auto sample = dst.span().first(check_size);
      char stream_col[32] = "";
      if (i == 0) std::snprintf(stream_col, sizeof stream_col, "%.2f", stream);
      std::printf("| dedup %zu, compress %zu | %zu | %.2f | %.2f | %.2f | %s | %.3f | %.3f |\n",
                  c.dedup, c.compress, thread_counts[i], fill, fill / memcpy_gbps[i], one_shot,
                  stream_col, zstd_ratio(sample), dedup_ratio(sample, omnio::kDataGenBlockSize));
    }
  }
  std::printf("\nfill: generate_into() a pre-faulted buffer (streaming stores from 32 MiB).\n");
  std::printf("memcpy: between two pre-faulted buffers, same thread count as the row.\n");
  std::printf("generate(): a new buffer each run, so it includes allocation and page faults.\n");
  std::printf("stream: DataGenerator::fill() into one reused 1 MiB buffer (stays in cache).\n");
  return 0;
}
