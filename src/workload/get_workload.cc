// run_get_workload, key lists and listings for read benchmarks, and the run's time accounting.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>

#include "omnio/key_list.h"
#include "omnio/store_factory.h"
#include "omnio/uri.h"
#include "omnio/workload.h"
#include "workload/workload_internal.h"

namespace omnio {
namespace workload_internal {

Usage usage_now() {
  Usage u;
  u.wall = std::chrono::steady_clock::now();
  rusage ru{};
  if (::getrusage(RUSAGE_SELF, &ru) == 0) {
    u.user_seconds = static_cast<double>(ru.ru_utime.tv_sec) + ru.ru_utime.tv_usec / 1e6;
    u.system_seconds = static_cast<double>(ru.ru_stime.tv_sec) + ru.ru_stime.tv_usec / 1e6;
  }
  return u;
}

void finish(WorkloadReport& report, const Usage& start, std::uint64_t bytes) {
  const Usage end = usage_now();
  report.seconds = std::chrono::duration<double>(end.wall - start.wall).count();
  report.cpu_user_seconds = end.user_seconds - start.user_seconds;
  report.cpu_system_seconds = end.system_seconds - start.system_seconds;
  report.bytes = bytes;
  report.objects = report.batch.succeeded;
}

}  // namespace workload_internal

Result<std::vector<std::string>> list_objects(ObjectStore& store, std::string_view prefix) {
  OMNIO_ASSIGN_OR_RETURN(auto entries, store.list_entries(prefix, true));
  std::vector<std::string> uris;
  for (auto& e : entries) {
    if (!e.is_dir) uris.push_back(std::move(e.uri));
  }
  return uris;
}

Result<std::vector<std::string>> parse_keylist(std::string_view text) {
  OMNIO_ASSIGN_OR_RETURN(auto entries, parse_key_list(text, "key list"));
  std::vector<std::string> uris;
  uris.reserve(entries.size());
  for (auto& e : entries) uris.push_back(std::move(e.uri));
  return uris;
}

namespace {

// One store per scheme, made on first use from `config` (shared by the workers).
class StoresByScheme {
 public:
  explicit StoresByScheme(const Config& config) : config_(config) {}
  // A store that cannot be made is made once: its error is kept and returned for every URI of
  // that scheme (not re-resolved per object).
  Result<ObjectStore*> for_uri(std::string_view uri) {
    OMNIO_ASSIGN_OR_RETURN(Scheme scheme, scheme_of(uri));
    std::lock_guard lock(mu_);
    auto [it, inserted] = by_scheme_.try_emplace(scheme, Error(ErrorCode::kInternal, "unset"));
    if (inserted) it->second = store_for_uri(uri, config_);
    if (!it->second.ok()) return it->second.error();
    return it->second->get();
  }

 private:
  const Config& config_;
  std::mutex mu_;
  std::map<Scheme, Result<std::shared_ptr<ObjectStore>>> by_scheme_;
};

Result<WorkloadReport> get_streamed(StoresByScheme& stores,
                                    const std::function<Status(const WorkEmit&)>& produce,
                                    std::string_view source_name, std::size_t jobs,
                                    const CancellationToken& cancel,
                                    const WorkloadCallbacks& callbacks) {
  if (jobs < 1 || jobs > kMaxCliJobs) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("workload: jobs must be in 1..{}", kMaxCliJobs));
  }
  WorkloadReport report;
  std::atomic<std::uint64_t> bytes{0};
  const workload_internal::Usage start = workload_internal::usage_now();
  report.batch = run_streamed(
      produce, source_name, jobs, kBatchQueueItems, cancel, [&](const WorkItem& item) -> Status {
        OMNIO_ASSIGN_OR_RETURN(ObjectStore * store, stores.for_uri(item.uri));
        ReadOptions ro;
        ro.cancel = cancel;
        // The data is discarded: take it in any order, with no range buffers.
        // Progress counts pieces as they arrive (a retried range counts again); the report
        // counts each object's size once.
        OMNIO_ASSIGN_OR_RETURN(std::uint64_t size,
                               store->get_positional(
                                   item.uri,
                                   [&](std::uint64_t, std::span<const std::byte> data) {
                                     if (callbacks.on_bytes) callbacks.on_bytes(data.size());
                                     return ok_status();
                                   },
                                   ro));
        bytes.fetch_add(size, std::memory_order_relaxed);
        if (callbacks.on_object) callbacks.on_object();
        return ok_status();
      });
  workload_internal::finish(report, start, bytes.load());
  return report;
}

}  // namespace

Result<WorkloadReport> run_get_workload_streamed(
    const std::function<Status(const WorkEmit&)>& produce, std::string_view source_name,
    std::size_t jobs, const Config& config, const CancellationToken& cancel,
    const WorkloadCallbacks& callbacks) {
  StoresByScheme stores(config);
  return get_streamed(stores, produce, source_name, jobs, cancel, callbacks);
}

Result<WorkloadReport> run_get_workload(const std::vector<std::string>& uris, std::size_t jobs,
                                        const Config& config, const CancellationToken& cancel,
                                        const WorkloadCallbacks& callbacks) {
  // Every URI's store is made before the run, so a bad URI or store configuration is one error
  // before any I/O, not a failure per object.
  StoresByScheme stores(config);
  for (const auto& uri : uris) OMNIO_TRY(stores.for_uri(uri));
  return get_streamed(
      stores,
      [&](const WorkEmit& emit) -> Status {
        for (const auto& uri : uris) OMNIO_TRY(emit(WorkItem{uri, 0}));
        return ok_status();
      },
      "URI list", jobs, cancel, callbacks);
}

}  // namespace omnio
