// put -n (generated objects) and get --discard over many objects: parse, call the library's
// workload runners, print the progress line and the final table.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "omnio/store_factory.h"
#include "omnio/uri.h"
#include "omnio/workload.h"

namespace omnio::cli {
namespace {

Result<std::uint64_t> parse_count(const std::string& text, const std::string& what) {
  auto n = parse_size(text, what);
  if (!n.ok()) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{} '{}': expected a count such as 1000, 1k (= 1000) or 1Ki (= 1024)",
                             what, text));
  }
  return n;
}

Result<std::uint64_t> parse_seed(const std::string& text) {
  std::uint64_t v = 0;
  std::size_t used = 0;
  try {
    v = std::stoull(text, &used, 0);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != text.size() || text.front() == '-') {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("--seed '{}': expected an unsigned 64-bit integer (decimal or 0x hex)", text));
  }
  return v;
}

// The final table: stderr (stdout stays free for data), or one JSON object on stdout.
void report_workload(const Globals& g, const std::string& op, const WorkloadReport& r,
                     std::optional<std::uint64_t> seed) {
  const double secs = r.seconds > 0 ? r.seconds : 1e-9;
  const double gb = static_cast<double>(r.bytes) / 1e9;
  const double cpu = r.cpu_user_seconds + r.cpu_system_seconds;
  const double cpu_per_gb = gb > 0 ? cpu / gb : 0;
  if (g.json) {
    nlohmann::json j{{"op", op},
                     {"objects", r.objects},
                     {"failed", r.batch.failures.size()},
                     {"bytes", r.bytes},
                     {"seconds", r.seconds},
                     {"objects_per_second", static_cast<double>(r.objects) / secs},
                     {"bytes_per_second", static_cast<double>(r.bytes) / secs},
                     {"cpu_user_seconds", r.cpu_user_seconds},
                     {"cpu_system_seconds", r.cpu_system_seconds},
                     {"cpu_seconds_per_gb", cpu_per_gb}};
    if (seed) j["seed"] = *seed;
    print_line(j.dump());
    return;
  }
  if (g.quiet) return;
  fmt::print(stderr, "{:<5} {:>10} {:>16} {:>10} {:>11} {:>8} {:>10} {:>10} {:>9}\n", "op",
             "objects", "bytes", "seconds", "objects/s", "GB/s", "cpu_user", "cpu_sys", "cpu_s/GB");
  fmt::print(stderr,
             "{:<5} {:>10} {:>16} {:>10.3f} {:>11.1f} {:>8.3f} {:>10.2f} {:>10.2f} {:>9.3f}\n", op,
             r.objects, r.bytes, r.seconds, static_cast<double>(r.objects) / secs, gb / secs,
             r.cpu_user_seconds, r.cpu_system_seconds, cpu_per_gb);
  if (seed) fmt::print(stderr, "seed: {} (--seed {} reproduces the bytes)\n", *seed, *seed);
}

// Runs with a progress line, then prints the table and returns the batch's status. `streamed`: a
// run whose objects come from a listing or key list; when that failed before naming a single
// object (BatchReport::source_failed), its error is the answer (one line), not a workload table.
template <typename Run>
Status run_and_report(const Globals& g, const std::string& op, std::optional<std::uint64_t> total,
                      bool with_seed, const std::string& what, Run run, bool streamed = false) {
  Progress progress(op, total, g);
  WorkloadCallbacks cb;
  cb.on_bytes = [&](std::uint64_t n) { progress.add(n); };
  cb.on_object = [&] { progress.add_object(); };
  Result<WorkloadReport> r = run(cb);
  progress.finish();
  if (!r.ok()) return std::move(r).error();
  if (streamed && r->batch.source_failed && r->batch.succeeded == 0 &&
      r->batch.failures.size() == 1) {
    return std::move(r->batch.failures.front().second);
  }
  if (streamed && r->batch.complete() && r->batch.succeeded == 0) {
    return Error(ErrorCode::kNotFound, fmt::format("{}: no objects under this prefix", what));
  }
  report_workload(g, op, *r, with_seed ? std::optional(r->seed) : std::nullopt);
  if (r->batch.partial()) mark_partial_failure();
  return r->batch.status(what);
}

}  // namespace

Status cmd_put_workload(const PutArgs& a, const Globals& g) {
  if (!a.uri.empty()) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("put -n takes one URI prefix, not two arguments ('{}' '{}')", a.src, a.uri));
  }
  if (!a.size) return Error(ErrorCode::kInvalidArgument, "put -n needs -s SIZE (e.g. -s 8MiB)");
  if (a.zstd) return Error(ErrorCode::kInvalidArgument, "--zstd cannot be combined with -n");
  OMNIO_TRY(check_jobs(a.jobs.value_or(0)));
  if (a.jobs && *a.jobs == 0) return Error(ErrorCode::kInvalidArgument, "-j 0: expected 1..4096");
  PutWorkloadOptions o;
  OMNIO_ASSIGN_OR_RETURN(o.prefix, to_uri(a.src));
  OMNIO_ASSIGN_OR_RETURN(o.count, parse_count(*a.count, "-n"));
  OMNIO_ASSIGN_OR_RETURN(o.size, parse_size(*a.size, "-s"));
  if (a.seed) {
    OMNIO_ASSIGN_OR_RETURN(o.seed, parse_seed(*a.seed));
  }
  if (a.format) {
    auto f = parse_object_format(*a.format);
    if (!f.ok()) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("--format '{}': expected raw, npy, npz or tfrecord", *a.format));
    }
    o.format.format = *f;
  }
  if (a.name_template) o.name_template = *a.name_template;
  if (a.dedup) o.dedup_factor = *a.dedup;
  if (a.compress) o.compress_factor = *a.compress;
  if (a.samples) o.format.samples = *a.samples;
  o.jobs = a.jobs.value_or(kDefaultCliJobs);
  o.write_index = a.index;
  // Flag names in errors, not the library's field names.
  if (o.dedup_factor < 1) return Error(ErrorCode::kInvalidArgument, "--dedup: expected >= 1");
  if (o.compress_factor < 1 || o.compress_factor > kMaxDataGenCompressFactor) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("--compress: expected 1..{}", kMaxDataGenCompressFactor));
  }
  if (o.write_index && o.format.format != ObjectFormat::kTfRecord) {
    return Error(ErrorCode::kInvalidArgument, "--index needs --format tfrecord");
  }
  OMNIO_ASSIGN_OR_RETURN(auto store, store_for_uri(o.prefix, cli_config()));
  const std::optional<std::uint64_t> total =
      o.size > 0 && o.count <= UINT64_MAX / o.size ? std::optional(o.count * o.size) : std::nullopt;
  return run_and_report(g, "put", total, true, fmt::format("put -n {} {}", o.count, o.prefix),
                        [&](const WorkloadCallbacks& cb) {
                          return run_put_workload(*store, o, interrupt_token(), cb);
                        });
}

Status cmd_get_workload(const GetArgs& a, const Globals& g) {
  if (a.jobs_given && a.jobs == 0) {
    return Error(ErrorCode::kInvalidArgument, "-j 0: expected 1..4096");
  }
  // The objects stream from the key list or the listing into the workers (run_streamed): memory
  // does not grow with the number of objects, and reading starts with the first page.
  std::function<Status(const WorkEmit&)> produce;
  std::string what, source;
  std::shared_ptr<ObjectStore> lister;
  std::string base;
  if (!a.keylist.empty()) {
    if (!a.uri.empty()) {
      OMNIO_ASSIGN_OR_RETURN(base, to_uri(a.uri));
      if (base.back() != '/') base += '/';
    }
    auto each_key = [&a, base](const WorkEmit& emit) -> Status {
      OMNIO_ASSIGN_OR_RETURN(std::uint64_t n,
                             emit_key_list(a.keylist, base, /*under=*/false, "get", emit));
      if (n == 0) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("key list '{}': lists no objects", a.keylist));
      }
      return ok_status();
    };
    // A bad line is a usage error (exit 2) before anything is read: one streaming pass first.
    OMNIO_TRY(each_key([](WorkItem&&) { return ok_status(); }));
    produce = each_key;
    what = fmt::format("get --keys-from {}", a.keylist);
    source = fmt::format("key list {}", a.keylist);
  } else {
    OMNIO_ASSIGN_OR_RETURN(std::string uri, to_uri(a.uri));
    OMNIO_ASSIGN_OR_RETURN(Uri canonical, Uri::parse(uri));  // listings use the canonical form
    uri = canonical.to_string();
    OMNIO_ASSIGN_OR_RETURN(lister, store_for_uri(uri, cli_config()));
    // get_positional learns each object's size when it opens it: the listing need not stat
    // every local file first (a stat is ~2 us of system call here, and reading started ~30 ms
    // later for 20,000 files).
    produce = [uri, store = lister.get()](const WorkEmit& emit) -> Status {
      return emit_listing(*store, uri, emit, interrupt_token(), /*sizes=*/false);
    };
    what = fmt::format("get {}", uri);
    source = fmt::format("listing {}", uri);
  }
  if (a.dry_run) {
    return produce([&](WorkItem&& item) {
      print_dry_run(g, "read", item.uri);
      return ok_status();
    });
  }
  const std::size_t jobs = a.jobs == 0 ? kDefaultCliJobs : a.jobs;
  return run_and_report(
      g, "get", std::nullopt, false, what,
      [&](const WorkloadCallbacks& cb) {
        return run_get_workload_streamed(produce, source, jobs, cli_config(), interrupt_token(),
                                         cb);
      },
      /*streamed=*/true);
}

}  // namespace omnio::cli
