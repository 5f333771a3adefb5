// Sequential read / write of one large file through file:// or direct://, for bench/run-local.sh.
// One TSV line per repetition on stdout:
//   mode scheme engine chunk_bytes concurrency bytes seconds GBps peak_rss_kib
// Usage:
//   omnio_bench_local --file PATH --mode read|write [--scheme direct|file] [--engine on|off]
//     [--chunk 64MiB] [--concurrency 16] [--size 2GiB (write)] [--repeat 1] [--drop-cache]
//     [--block 8MiB (simple path / write block)]
// Reads go through get_to_sink and discard the data (bounded memory: this is `omnio get
// --discard`); writes are one put of a generated in-memory object.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "bench_util.h"
#include "omnio/datagen.h"
#include "omnio/store_factory.h"

using namespace omnio;

int main(int argc, char** argv) {
  auto a = bench::parse_args(argc, argv);
  if (!a.count("file") || !a.count("mode")) {
    std::fprintf(stderr, "usage: omnio_bench_local --file PATH --mode read|write [options]\n");
    return 2;
  }
  const std::string path = a["file"], mode = a["mode"];
  const std::string scheme = a.count("scheme") ? a["scheme"] : "direct";
  const bool engine = !a.count("engine") || a["engine"] == "on";
  const int repeat = a.count("repeat") ? std::atoi(a["repeat"].c_str()) : 1;
  Config cfg;
  FileSystemConfig& fc = scheme == "direct" ? cfg.direct : cfg.file;
  fc.enable_range_engine = engine;
  if (a.count("chunk")) fc.range_engine.chunk_size = bench::parse_bytes(a["chunk"]);
  if (a.count("concurrency")) fc.range_engine.max_concurrent_ranges = std::stoul(a["concurrency"]);
  if (a.count("block")) fc.io_block_size = bench::parse_bytes(a["block"]);
  const std::string uri = scheme + "://" + path;
  auto store = store_for_uri(uri, cfg);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.error().to_string().c_str());
    return 1;
  }
  Bytes data;
  if (mode == "write") {
    DataGenOptions o;
    o.size = bench::parse_bytes(a.count("size") ? a["size"] : "2GiB");
    o.seed = 42;
    auto g = generate(o);
    if (!g.ok()) return 1;
    data = *g;
  }
  for (int r = 0; r < repeat; ++r) {
    if (a.count("drop-cache")) {
      int fd = ::open(path.c_str(), O_RDONLY);
      if (fd >= 0) {
        ::fdatasync(fd);
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        ::close(fd);
      }
    }
    std::uint64_t bytes = 0;
    const double t0 = bench::now_s();
    Status s;
    if (mode == "read") {
      s = (*store)->get_to_sink(uri, [&](std::uint64_t, Bytes b) {
        bytes += b.size();
        return ok_status();
      });
    } else {
      s = (*store)->put(uri, data);
      bytes = data.size();
    }
    const double secs = bench::now_s() - t0;
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.error().to_string().c_str());
      return 1;
    }
    std::printf("%s\t%s\t%s\t%zu\t%zu\t%llu\t%.4f\t%.3f\t%ld\n", mode.c_str(), scheme.c_str(),
                engine ? "on" : "off", fc.range_engine.chunk_size,
                fc.range_engine.max_concurrent_ranges, static_cast<unsigned long long>(bytes), secs,
                static_cast<double>(bytes) / secs / 1e9, bench::peak_rss_kib());
    std::fflush(stdout);
  }
  return 0;
}
