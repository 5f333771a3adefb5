// Building a Dataset from a listing, as `omnio load PREFIX` does before its first read, against
// the old way (ObjectStore::list_stream with sizes into a std::vector of URI strings), each in a
// fresh process so that each pays for the memory it touches (page faults cost ~14 us each on our
// VMs: docs/BENCHMARKS.md, run 20).
//   omnio_bench_dataset PREFIX_URI [dataset|vector]   (one mode per process; run both, alternating)
// Prints: mode items milliseconds minor-page-faults
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "omnio/loader.h"
#include "omnio/store_factory.h"

namespace {
long minor_faults() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return r.ru_minflt;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: omnio_bench_dataset PREFIX_URI [dataset|vector]\n");
    return 2;
  }
  const std::string prefix = argv[1];
  const std::string_view mode = argc > 2 ? argv[2] : "dataset";
  auto store = omnio::store_for_uri(prefix);  // created before the clock starts, in both modes
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.error().to_string().c_str());
    return 1;
  }
  const long f0 = minor_faults();
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t n = 0;
  if (mode == "vector") {
    std::vector<std::string> uris;
    std::vector<std::uint64_t> sizes;
    auto st = (*store)->list_stream(prefix, true, [&](omnio::ListEntry&& e) {
      if (!e.is_dir) {
        sizes.push_back(e.size);
        uris.push_back(std::move(e.uri));
      }
      return omnio::ok_status();
    });
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.error().to_string().c_str());
      return 1;
    }
    n = uris.size();
  } else {
    auto ds = omnio::Dataset::from_prefix(prefix);
    if (!ds.ok()) {
      std::fprintf(stderr, "%s\n", ds.error().to_string().c_str());
      return 1;
    }
    n = ds->size();
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.*s %zu %.2f %ld\n", static_cast<int>(mode.size()), mode.data(), n, ms,
              minor_faults() - f0);
  return 0;
}
