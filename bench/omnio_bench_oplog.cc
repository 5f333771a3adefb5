// Op-log overhead: N small GETs on file:// with logging off and on, in the same run, alternating
// the order each round; medians over the rounds and their ratio. Goal: < 5 % difference.
// Usage:
//   omnio_bench_oplog --dir PATH [--ops 100000] [--objects 1000] [--size 4KiB] [--rounds 7]
//     [--format zst|tsv|both] [--zstd-level L] [--queue N: records per thread's queue]
//     [--ops-per-log N: GETs each log carries before it is closed and a new one opened; default
//      100000, the "100,000 small GETs" per log, so a log's one-time costs (its buffers'
//      first-touch page faults) are charged to that many GETs whatever --ops is]
//     [--only on|off: one side, no table]
//     [--log-dir D: where the logs go; default DIR]
//     [--app-threads 2|1: 2 (default) keeps an idle second thread alive, as in any omnio command;
//      1 leaves the "off" runs single-threaded, which makes each syscall cheaper]
// Prints the CPU cost of record() alone, then one row per log format with wall and CPU time per
// GET (medians), logging off vs on, and the overhead in percent.
#include <sys/resource.h>
#include <time.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bench_util.h"
#include "omnio/datagen.h"
#include "omnio/logged_store.h"
#include "omnio/store_factory.h"

using namespace omnio;

namespace {

// CPU seconds (user + system) used by the whole process so far: on a shared, loaded machine this
// is steadier than wall time, and it includes the log's writer thread.
double process_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

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

// Cost of logging alone: `n` records of a typical GET through record(), then close(). Returns
// CPU ns per record of the producing thread and of the whole process (producer + writer).
std::pair<double, double> record_cost(const std::string& path, std::size_t n) {
  OpLogOptions o;
  o.path = path;
  o.lossless = true;
  auto log = OpLog::open(o);
  if (!log.ok()) std::exit(1);
  const std::string uri = "file:///data/train/shard_000123/sample_0004567.bin";
  const double p0 = thread_cpu_s(), c0 = process_cpu_s();
  for (std::size_t i = 0; i < n; ++i) {  // what the store decorator does per operation
    OpRecordView r;
    r.start = std::chrono::steady_clock::now();
    r.op = "GET";
    split_uri_for_log_view(uri, &r.endpoint, &r.file);
    r.bytes = 4096;
    r.end = std::chrono::steady_clock::now();
    (*log)->record(r);
  }
  const double p1 = thread_cpu_s();
  if (!(*log)->close().ok()) std::exit(1);
  const double c1 = process_cpu_s();
  return {(p1 - p0) / static_cast<double>(n) * 1e9, (c1 - c0) / static_cast<double>(n) * 1e9};
}

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parse_args(argc, argv);
  if (!a.count("dir")) {
    std::fprintf(stderr,
                 "usage: omnio_bench_oplog --dir PATH [--ops N] [--objects N] [--size B] "
                 "[--rounds R] [--format zst|tsv|both]\n");
    return 2;
  }
  const std::string dir = std::filesystem::absolute(a["dir"]).string();
  const std::size_t ops = a.count("ops") ? std::stoul(a["ops"]) : 100000;
  const std::size_t objects = a.count("objects") ? std::stoul(a["objects"]) : 1000;
  const std::uint64_t size = bench::parse_bytes(a.count("size") ? a["size"] : "4KiB");
  const int rounds = a.count("rounds") ? std::atoi(a["rounds"].c_str()) : 7;
  const std::string fmt = a.count("format") ? a["format"] : "both";
  const std::string only = a.count("only") ? a["only"] : "";
  // Where the logs go (default: beside the objects, on the same file system).
  const std::string log_dir = a.count("log-dir") ? a["log-dir"] : dir;
  // --queue N: OpLogOptions::queue_capacity (records per recording thread); 0 = the default.
  const std::size_t queue_capacity = a.count("queue") ? std::stoul(a["queue"]) : 0;
  const std::size_t ops_per_log = a.count("ops-per-log") ? std::stoul(a["ops-per-log"]) : 100000;
  const int zstd_level =
      a.count("zstd-level") ? std::atoi(a["zstd-level"].c_str()) : kDefaultOpLogZstdLevel;
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

  // An idle second thread for the whole run (default): every omnio command and loader already runs
  // several threads, and a process with more than one thread pays more per syscall (the kernel's
  // fdget()/fput() take a file reference, glibc enables async cancellation around each
  // cancellable call). Without it, "off" runs single-threaded and "on" does not (the log's writer
  // thread), so the comparison would charge that to logging. --app-threads 1 measures it so.
  const int app_threads = a.count("app-threads") ? std::atoi(a["app-threads"].c_str()) : 2;
  std::mutex idle_mu;
  std::condition_variable_any idle_cv;
  std::jthread idle;
  if (app_threads > 1) {
    idle = std::jthread([&](std::stop_token st) {
      std::unique_lock lock(idle_mu);
      idle_cv.wait(lock, st, [] { return false; });
    });
  }

  std::printf("format\trecords\tproducer_cpu_ns_per_record\tprocess_cpu_ns_per_record\n");
  for (const char* ext : {"tsv.zst", "tsv"}) {
    if (!only.empty()) break;
    auto [p, c] = record_cost(dir + "/cost." + ext, 1000000);
    std::printf("%s\t%d\t%.0f\t%.0f\n", ext, 1000000, p, c);
  }
  std::printf("\n");

  std::vector<std::string> formats;
  if (fmt == "zst" || fmt == "both") formats.push_back("zst");
  if (fmt == "tsv" || fmt == "both") formats.push_back("tsv");
  std::printf(
      "format\tops\trounds\toff_wall_us_per_op\ton_wall_us_per_op\twall_overhead_pct\t"
      "off_cpu_us_per_op\ton_cpu_us_per_op\tcpu_overhead_pct\toff_app_thread_cpu_us\t"
      "on_app_thread_cpu_us\tapp_thread_overhead_pct\tpaired_wall_overhead_pct\t"
      "paired_app_thread_overhead_pct\tdropped\n");
  for (const auto& f : formats) {
    std::vector<double> off_wall, on_wall, off_cpu, on_cpu, off_thr, on_thr;
    std::uint64_t dropped = 0;
    auto timed_off = [&] {
      const double c0 = process_cpu_s(), t0 = thread_cpu_s();
      off_wall.push_back(run_gets(**plain, uris, ops));
      off_thr.push_back(thread_cpu_s() - t0);
      off_cpu.push_back(process_cpu_s() - c0);
    };
    // Wall: the GET loop as the application sees it. CPU: the loop and, for a round that ends a
    // log, its close(), so the writer thread's formatting and compression are charged to logging.
    // A log carries --ops-per-log GETs, over as many rounds as that takes.
    std::shared_ptr<OpLog> log;
    std::shared_ptr<ObjectStore> logged;
    std::size_t log_ops = 0;
    auto close_log = [&] {
      if (!log->close().ok()) std::exit(1);
      dropped += log->dropped();
      log.reset();
      logged.reset();
      log_ops = 0;
    };
    auto timed_on = [&] {
      if (!log) {
        OpLogOptions o;
        o.path = log_dir + "/bench-oplog." + (f == "zst" ? "tsv.zst" : "tsv");
        o.zstd_level = zstd_level;
        if (queue_capacity > 0) o.queue_capacity = queue_capacity;
        auto opened = OpLog::open(o);
        if (!opened.ok()) {
          std::fprintf(stderr, "%s\n", opened.error().to_string().c_str());
          std::exit(1);
        }
        log = *opened;
        logged = with_op_log(*plain, log);
      }
      const double c0 = process_cpu_s(), t0 = thread_cpu_s();
      on_wall.push_back(run_gets(*logged, uris, ops));
      on_thr.push_back(thread_cpu_s() - t0);
      log_ops += ops;
      if (log_ops >= ops_per_log) close_log();
      on_cpu.push_back(process_cpu_s() - c0);
    };
    if (only == "on" || only == "off") {  // one side only, for `perf stat` of each
      for (int r = 0; r < rounds; ++r) only == "on" ? timed_on() : timed_off();
      if (log) close_log();
      continue;
    }
    for (int r = 0; r < rounds; ++r) {
      // Alternate which goes first so page-cache or load drift does not favour one side.
      if (r % 2 == 0) {
        timed_off();
        timed_on();
      } else {
        timed_on();
        timed_off();
      }
    }
    if (log) close_log();
    const double n = static_cast<double>(ops);
    const double ow = bench::median(off_wall), nw = bench::median(on_wall);
    const double oc = bench::median(off_cpu), nc = bench::median(on_cpu);
    const double ot = bench::median(off_thr), nt = bench::median(on_thr);
    // Paired: each round's on/off ratio (the two runs are adjacent, so slow drift of the VM cancels
    // out), then the median over rounds.
    std::vector<double> wall_ratio, thr_ratio;
    for (std::size_t i = 0; i < on_wall.size(); ++i) {
      wall_ratio.push_back(on_wall[i] / off_wall[i]);
      thr_ratio.push_back(on_thr[i] / off_thr[i]);
    }
    const double pw = (bench::median(wall_ratio) - 1) * 100;
    const double pt = (bench::median(thr_ratio) - 1) * 100;
    std::printf(
        "%s\t%zu\t%d\t%.3f\t%.3f\t%.2f\t%.3f\t%.3f\t%.2f\t%.3f\t%.3f\t%.2f\t%.2f\t%.2f\t%llu\n",
        f.c_str(), ops, rounds, ow / n * 1e6, nw / n * 1e6, (nw / ow - 1) * 100, oc / n * 1e6,
        nc / n * 1e6, (nc / oc - 1) * 100, ot / n * 1e6, nt / n * 1e6, (nt / ot - 1) * 100, pw, pt,
        static_cast<unsigned long long>(dropped));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
