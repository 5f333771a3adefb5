// Raw reads of every object under a prefix into memory, N objects at a time: the peer of
// `omnio load` that, like the loader, holds each object whole in memory (bench/run-load.sh).
// `omnio get PREFIX --discard -j N` streams each object through a few small reused chunks and
// never holds one; these modes make the same library calls with whole objects as the result:
//   --mode into   one reused buffer per job, ObjectStore::get_into (the loader's read path without
//                 the loader: what the loader's sampler, window, ordering and batching cost shows
//                 against this row)
//   --mode get    ObjectStore::get, a fresh Bytes per object, dropped after the read
// --ring B (mode into): each job cycles through B buffers instead of one, so the reads land in
// B x jobs x object-size of memory (the loader's in-flight + ready + consumer's batch buffers)
// rather than in cache-warm memory.
// --repeat R reads the whole set R times (R passes, each job keeps its buffer: the steady state
// that `omnio load --epochs R` is compared with).
// Every object must come back with its listed size (else exit 1). Prints one line:
//   objects bytes seconds          (seconds: listing + reads)
// Usage: omnio_bench_getmem --prefix URI [--jobs 32] [--mode into|get] [--repeat 1] [--ring 1]
#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "omnio/aligned_buffer.h"
#include "omnio/store_factory.h"

using namespace omnio;

int main(int argc, char** argv) {
  auto a = bench::parse_args(argc, argv);
  if (!a.count("prefix")) {
    std::fprintf(stderr, "usage: omnio_bench_getmem --prefix URI [--jobs N] [--mode into|get]\n");
    return 2;
  }
  const std::string prefix = a["prefix"];
  const std::string mode = a.count("mode") ? a["mode"] : "into";
  const std::size_t jobs = a.count("jobs") ? std::stoul(a["jobs"]) : 32;
  const std::size_t repeat = a.count("repeat") ? std::stoul(a["repeat"]) : 1;
  const std::size_t ring = a.count("ring") ? std::stoul(a["ring"]) : 1;
  if ((mode != "into" && mode != "get") || jobs == 0 || repeat == 0 || ring == 0) {
    std::fprintf(stderr, "--mode: expected into or get; --jobs, --repeat, --ring: expected >= 1\n");
    return 2;
  }
  const double t0 = bench::now_s();
  Config cfg;
  auto store = store_for_uri(prefix, cfg);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.error().to_string().c_str());
    return 1;
  }
  auto listed = (*store)->list_entries(prefix, /*recursive=*/true);
  if (!listed.ok()) {
    std::fprintf(stderr, "%s\n", listed.error().to_string().c_str());
    return 1;
  }
  std::vector<ListEntry> objects;
  std::uint64_t largest = 0;
  for (auto& e : *listed) {
    if (e.is_dir) continue;
    largest = std::max(largest, e.size);
    objects.push_back(std::move(e));
  }
  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> bytes{0};
  std::mutex err_mu;
  std::string first_error;
  const auto fail = [&](std::string m) {
    std::lock_guard g(err_mu);
    if (first_error.empty()) first_error = std::move(m);
  };
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < jobs; ++t) {
      threads.emplace_back([&] {
        // This job's reused destinations (mode into), used in turn.
        std::vector<AlignedBuffer> ring_bufs;
        for (std::size_t i, k = 0; (i = next.fetch_add(1)) < objects.size() * repeat; ++k) {
          const ListEntry& e = objects[i % objects.size()];
          std::uint64_t got = 0;
          if (mode == "get") {
            auto r = (*store)->get(e.uri);
            if (!r.ok()) return fail(r.error().to_string());
            got = r->size();
          } else {
            if (ring_bufs.size() < ring) {
              auto b = AlignedBuffer::allocate(static_cast<std::size_t>(largest), 4096);
              if (!b.ok()) return fail(b.error().to_string());
              ring_bufs.push_back(std::move(*b));
            }
            AlignedBuffer& buf = ring_bufs[k % ring_bufs.size()];
            auto r = (*store)->get_into(e.uri, 0, buf.span().first(e.size));
            if (!r.ok()) return fail(r.error().to_string());
            got = *r;
          }
          if (got != e.size) {
            return fail(e.uri + ": read " + std::to_string(got) + " bytes, listed " +
                        std::to_string(e.size));
          }
          bytes.fetch_add(got);
        }
      });
    }
  }
  if (!first_error.empty()) {
    std::fprintf(stderr, "omnio_bench_getmem: %s\n", first_error.c_str());
    return 1;
  }
  std::printf("%zu %llu %.4f\n", objects.size() * repeat,
              static_cast<unsigned long long>(bytes.load()), bench::now_s() - t0);
  return 0;
}
