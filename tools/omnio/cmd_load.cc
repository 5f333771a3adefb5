// load: run the DataLoader over a data set and drop the data (the loader's benchmark). Parses,
// calls the library (omnio/loader.h), prints the progress line and the final table.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "omnio/loader.h"
#include "omnio/uri.h"

namespace omnio::cli {
namespace {

Error usage(std::string m) { return Error(ErrorCode::kInvalidArgument, std::move(m)); }

double ms(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

void report_load(const Globals& g, const LoadRunReport& r, std::size_t pool) {
  const LoaderMetrics& m = r.metrics;
  const double secs = std::chrono::duration<double>(m.elapsed).count();
  const double wait = std::chrono::duration<double>(m.consumer_wait).count();
  const double gbps = secs > 0 ? static_cast<double>(m.bytes) / 1e9 / secs : 0;
  if (g.json) {
    nlohmann::json j{{"op", "load"},
                     {"epochs", r.epochs},
                     {"items", m.items},
                     {"batches", m.batches},
                     {"bytes", m.bytes},
                     {"seconds", secs},
                     {"items_per_second", m.items_per_second()},
                     {"bytes_per_second", m.bytes_per_second()},
                     {"latency_p50_ms", ms(m.latency_p50)},
                     {"latency_p99_ms", ms(m.latency_p99)},
                     {"consumer_wait_seconds", wait},
                     {"retries", m.retries},
                     {"reading_workers", m.reading_workers},
                     {"reading_workers_changes", m.reading_workers_changes},
                     {"errors", m.errors},
                     {"skipped", r.skipped.size()},
                     {"cpu_user_seconds", r.cpu_user_seconds},
                     {"cpu_system_seconds", r.cpu_system_seconds}};
    print_line(j.dump());
    return;
  }
  if (g.quiet) return;
  fmt::print(stderr,
             "{:<5} {:>10} {:>16} {:>9} {:>10} {:>8} {:>9} {:>9} {:>8} {:>8} {:>7} {:>9} {:>8}\n",
             "op", "items", "bytes", "seconds", "items/s", "GB/s", "p50_ms", "p99_ms", "wait_s",
             "retries", "errors", "cpu_user", "cpu_sys");
  fmt::print(stderr,
             "{:<5} {:>10} {:>16} {:>9.3f} {:>10.1f} {:>8.3f} {:>9.3f} {:>9.3f} {:>8.3f} {:>8} "
             "{:>7} {:>9.2f} {:>8.2f}\n",
             "load", m.items, m.bytes, secs, m.items_per_second(), gbps, ms(m.latency_p50),
             ms(m.latency_p99), wait, m.retries, m.errors, r.cpu_user_seconds,
             r.cpu_system_seconds);
  // The cap applies from the start, so "fewer than --pool read" needs saying even with no change.
  if (m.reading_workers < pool || m.reading_workers_changes > 0) {
    fmt::print(stderr,
               "readers: {} of --pool {} at the end, changed {} time{} (reads that do not sleep "
               "run one worker per CPU; --fixed-pool keeps all of --pool reading)\n",
               m.reading_workers, pool, m.reading_workers_changes,
               m.reading_workers_changes == 1 ? "" : "s");
  }
  for (const ItemError& e : r.skipped) {
    fmt::print(stderr, "skipped: {} ({})\n", e.uri, e.error.to_string());
  }
}

}  // namespace

Status cmd_load(const LoadArgs& a, const Globals& g) {
  LoaderConfig::Builder b;
  if (a.batch_size) b.batch_size(*a.batch_size);
  if (a.pool) b.pool_size(*a.pool);
  if (a.fixed_pool) b.limit_when_cpu_bound(false);
  if (a.readahead) b.readahead_batches(*a.readahead);
  if (a.timeout_ms) b.request_timeout(std::chrono::milliseconds(*a.timeout_ms));
  if (a.seed && !a.shuffle) return usage("--seed needs --shuffle");
  b.shuffle(a.shuffle).seed(a.seed.value_or(0)).drop_last(a.drop_last);
  if (a.rank || a.world) {
    if (!a.rank || !a.world)
      return usage("--rank and --world go together (e.g. --rank 0 --world 4)");
    b.shard(*a.rank, *a.world);
  }
  ObjectFormat format = ObjectFormat::kRaw;
  if (a.format) {
    auto f = parse_object_format(*a.format);
    if (!f.ok()) {
      return usage(fmt::format("--format '{}': expected raw, npy, npz or tfrecord", *a.format));
    }
    format = *f;
  }
  b.format(format);
  if (a.on_error) {
    if (*a.on_error == "fail") {
      b.on_error(LoaderOptions::OnError::kFail);
    } else if (*a.on_error == "skip") {
      b.on_error(LoaderOptions::OnError::kSkip);
    } else if (*a.on_error == "deliver") {
      b.on_error(LoaderOptions::OnError::kDeliver);
    } else {
      return usage(fmt::format("--on-error '{}': expected fail, skip or deliver", *a.on_error));
    }
  }
  if (a.order) {
    if (*a.order == "sampler") {
      b.order(LoaderOptions::Order::kSampler);
    } else if (*a.order == "completion") {
      b.order(LoaderOptions::Order::kCompletion);
    } else {
      return usage(fmt::format("--order '{}': expected sampler or completion", *a.order));
    }
  }
  b.store_config(cli_config());
  OMNIO_ASSIGN_OR_RETURN(LoaderConfig config, b.build());
  const std::size_t pool = config.pool.pool_size;
  if (a.uri.empty() && a.keylist.empty()) {
    return usage(
        "load takes a URI prefix or --keys-from FILE (or both: relative keys are "
        "under the prefix)");
  }
  Result<Dataset> ds = Error(ErrorCode::kInternal, "unset");
  if (!a.keylist.empty()) {
    std::string base;
    if (!a.uri.empty()) {
      OMNIO_ASSIGN_OR_RETURN(base, to_uri(a.uri));
      if (base.back() != '/') base += '/';
    }
    ds = Dataset::from_key_list(a.keylist, base, cli_config());
  } else {
    OMNIO_ASSIGN_OR_RETURN(std::string uri, to_uri(a.uri));
    OMNIO_ASSIGN_OR_RETURN(Uri canonical, Uri::parse(uri));
    // Reading starts while the rest is listed (an unshuffled epoch takes items as they arrive).
    ds = Dataset::from_prefix_streamed(canonical.to_string(), cli_config(), interrupt_token());
  }
  if (!ds.ok()) return std::move(ds).error();
  if (format == ObjectFormat::kTfRecord) {
    OMNIO_ASSIGN_OR_RETURN(*ds, Dataset::tfrecord_records(*ds));
  }
  Progress progress("load", std::nullopt, g);
  auto r = run_loader(std::move(*ds), std::move(config), a.epochs, interrupt_token(),
                      [&](const Batch& batch) {
                        for (const Item& it : batch.items) {
                          progress.add(it.data.size());
                          progress.add_object();
                        }
                      });
  progress.finish();
  if (!r.ok()) return std::move(r).error();
  report_load(g, *r, pool);
  if (!r->skipped.empty()) {
    return Error(
        ErrorCode::kDataLoss,
        fmt::format("load: {} item(s) skipped after errors (listed above)", r->skipped.size()));
  }
  return ok_status();
}

}  // namespace omnio::cli
