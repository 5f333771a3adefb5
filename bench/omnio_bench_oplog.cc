// Op-log overhead: N small GETs on file:// with logging off and on, in the same run, alternating
// the order each round; medians over the rounds and their ratio. Goal: < 5 % difference.
// Usage:
//   omnio_bench_oplog --dir PATH [--ops 100000] [--objects 1000] [--size 4KiB] [--rounds 7]
//     [--format zst|tsv|both]
// Prints one table row per log format:
//   format ops rounds off_median_s on_median_s off_us_per_op on_us_per_op overhead_pct dropped
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_util.h"
#include "omnio/datagen.h"
#include "omnio/logged_store.h"
#include "omnio/store_factory.h"

using namespace omnio;

namespace {

// Times `ops` GETs round-robin over `uris`.
double run_gets(ObjectStore& store, const std::vector<std::string>& uris, std::size_t ops) {
  const double t0 = bench::now_s();
  for (std::size_t i = 0; i < ops; ++i) {
    auto r = store.get(uris[i % uris.size()]);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
      std::exit(1);
    }
  }
  return bench::now_s() - t0;
}

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parse_args(argc, argv);
  if (!a.count("dir")) {
    std::fprintf(stderr, "usage: omnio_bench_oplog --dir PATH [--ops N] [--objects N] [--size B] "
                         "[--rounds R] [--format zst|tsv|both]\n");
    return 2;
  }
  const std::string dir = std::filesystem::absolute(a["dir"]).string();
  const std::size_t ops = a.count("ops") ? std::stoul(a["ops"]) : 100000;
  const std::size_t objects = a.count("objects") ? std::stoul(a["objects"]) : 1000;
  const std::uint64_t size = bench::parse_bytes(a.count("size") ? a["size"] : "4KiB");
  const int rounds = a.count("rounds") ? std::atoi(a["rounds"].c_str()) : 7;
  const std::string fmt = a.count("format") ? a["format"] : "both";
  std::filesystem::create_directories(dir);

  auto plain = store_for_uri("file://" + dir + "/");
  if (!plain.ok()) {
    std::fprintf(stderr, "%s\n", plain.error().to_string().c_str());
    return 1;
  }
  std::vector<std::string> uris;
  for (std::size_t i = 0; i < objects; ++i) {
    uris.push_back("file://" + dir + "/obj_" + std::to_string(i));
    DataGenOptions g;
    g.size = size;
    g.seed = 1;
    g.object_index = i;
    auto data = generate(g);
    if (!data.ok() || !(*plain)->put(uris.back(), *data).ok()) {
      std::fprintf(stderr, "setup failed\n");
      return 1;
    }
  }
  run_gets(**plain, uris, objects);  // warm the page cache and dentries

  std::vector<std::string> formats;
  if (fmt == "zst" || fmt == "both") formats.push_back("zst");
  if (fmt == "tsv" || fmt == "both") formats.push_back("tsv");
  std::printf("format\tops\trounds\toff_median_s\ton_median_s\toff_us_per_op\ton_us_per_op\t"
              "overhead_pct\tdropped\n");
  for (const auto& f : formats) {
    std::vector<double> off, on;
    std::uint64_t dropped = 0;
    for (int r = 0; r < rounds; ++r) {
      auto timed_on = [&] {
        OpLogOptions o;
        o.path = dir + "/bench-oplog." + (f == "zst" ? "tsv.zst" : "tsv");
        auto log = OpLog::open(o);
        if (!log.ok()) {
          std::fprintf(stderr, "%s\n", log.error().to_string().c_str());
          std::exit(1);
        }
        auto logged = with_op_log(*plain, *log);
        on.push_back(run_gets(*logged, uris, ops));
        if (!(*log)->close().ok()) std::exit(1);
        dropped += (*log)->dropped();
      };
      // Alternate which goes first so page-cache or frequency drift does not favour one side.
      if (r % 2 == 0) {
        off.push_back(run_gets(**plain, uris, ops));
        timed_on();
      } else {
        timed_on();
        off.push_back(run_gets(**plain, uris, ops));
      }
    }
    const double m_off = bench::median(off), m_on = bench::median(on);
    std::printf("%s\t%zu\t%d\t%.4f\t%.4f\t%.3f\t%.3f\t%.2f\t%llu\n", f.c_str(), ops, rounds, m_off,
                m_on, m_off / static_cast<double>(ops) * 1e6, m_on / static_cast<double>(ops) * 1e6,
                (m_on / m_off - 1) * 100, static_cast<unsigned long long>(dropped));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
