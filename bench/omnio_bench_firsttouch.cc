// First touch of fresh anonymous memory, the way item buffers are allocated: 4 KiB pages, with
// MADV_HUGEPAGE (AlignedBuffer asks for it from 2 MiB up), and with MADV_POPULATE_WRITE, each in a
// fresh mapping, then a memset of the now-resident memory as the warm peer. On a VM whose balloon
// driver reports free memory to the host (virtio_balloon free page reporting, order 9 = 2 MiB
// blocks), memory the guest has not used lately must be faulted in by the host again, and huge
// pages always come from such blocks (docs/BENCHMARKS.md, the DataLoader section).
// Usage: omnio_bench_firsttouch [MiB (default 768)] [rounds (default 3)] [pause s between (default
// 3)]
//        omnio_bench_firsttouch warm MiB: touch MiB of huge-page memory once and exit
//        (bench/run-load.sh runs it before every timed run, so that no tool is measured on
//        host-unbacked memory that the tool before it did not happen to free).
#include <sys/mman.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <tuple>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One fresh mapping of `bytes`: GB/s of the first touch and of a memset afterwards.
void one(std::size_t bytes, bool huge, bool populate, const char* name) {
  constexpr std::size_t kHuge = 2u << 20;
  void* m =
      mmap(nullptr, bytes + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    std::perror("mmap");
    std::exit(1);
  }
  auto* p =
      reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(m) + kHuge - 1) & ~(kHuge - 1));
  const double t0 = now_s();
  if (huge) madvise(p, bytes, MADV_HUGEPAGE);
  bool populated = populate && madvise(p, bytes, MADV_POPULATE_WRITE) == 0;
  if (!populated) {
    for (std::size_t i = 0; i < bytes; i += 4096) p[i] = 1;
  }
  const double t1 = now_s();
  std::memset(p, 2, bytes);
  const double t2 = now_s();
  std::printf("%s\t%.2f\t%.2f%s\n", name, static_cast<double>(bytes) / (t1 - t0) / 1e9,
              static_cast<double>(bytes) / (t2 - t1) / 1e9,
              populate && !populated ? "\t(MADV_POPULATE_WRITE unsupported: touched)" : "");
  munmap(m, bytes + kHuge);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 && std::strcmp(argv[1], "warm") == 0) {
    const std::size_t bytes = std::strtoull(argv[2], nullptr, 10) << 20;
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 1;
    madvise(m, bytes, MADV_HUGEPAGE);
    std::memset(m, 1, bytes);
    return 0;
  }
  const std::size_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 768;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  const int pause = argc > 3 ? std::atoi(argv[3]) : 3;
  std::printf("mapping\tfirst_touch_GBps\tmemset_after_GBps\n");
  for (int r = 0; r < rounds; ++r) {
    // The pause lets freed memory be reported back to the host, as between two benchmark runs.
    for (auto [huge, populate, name] :
         {std::tuple{false, false, "4KiB"}, std::tuple{true, false, "MADV_HUGEPAGE"},
          std::tuple{false, true, "MADV_POPULATE_WRITE"}}) {
      std::this_thread::sleep_for(std::chrono::seconds(pause));
      one(mib << 20, huge, populate, name);
    }
  }
  return 0;
}
