// Workload runners for storage benchmarks: write N generated objects (every one generated on its
// own from (seed, object index), never one buffer copied N times), or read a set of objects and
// drop the data. Both run on up to `jobs` threads with bounded memory and measure wall time and
// the process's CPU time. The CLI's `put -n` and `get --discard` over many objects call these.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "omnio/cancel.h"
#include "omnio/config.h"
#include "omnio/constants.h"
#include "omnio/formats.h"
#include "omnio/object_store.h"
#include "omnio/transfer.h"

namespace omnio {

/// What run_put_workload writes.
struct PutWorkloadOptions {
  /// URI prefix; object i is prefix + the template expanded for i (string concatenation: end the
  /// prefix with '/' to write into a directory). Required.
  std::string prefix;
  /// Objects to write. Default 0.
  std::uint64_t count = 0;
  /// Generated payload bytes per object (the array or record data: containers add their headers).
  /// Default 0.
  std::uint64_t size = 0;
  /// Object name: the first "{}" becomes the object index (0-based), the second the count; at most
  /// two. Empty = kDefaultWorkloadTemplate + the format's extension ("object_{}_of_{}.dat").
  std::string name_template;
  /// Container of each object. Default raw.
  FormatOptions format;
  /// Data generator ratios (see DataGenOptions). Default 1 and 1.
  std::size_t dedup_factor = 1;
  std::size_t compress_factor = 1;
  /// Seed of the run; absent = random_seed(), reported in the result. Default absent.
  std::optional<std::uint64_t> seed;
  /// Objects written in parallel, 1..kMaxCliJobs. Default kDefaultCliJobs.
  std::size_t jobs = kDefaultCliJobs;
  /// tfrecord: also write DALI's index of each object as <object>.idx. Default false.
  bool write_index = false;

  /// kInvalidArgument naming the field ("workload: jobs must be in 1..4096").
  Status validate() const;
};

/// Expands a name template: "{}" #1 -> index, "{}" #2 -> count. kInvalidArgument for a third "{}"
/// or any other brace.
Result<std::string> expand_name_template(std::string_view name_template, std::uint64_t index,
                                         std::uint64_t count);

/// Called as work completes (from worker threads; keep them cheap).
struct WorkloadCallbacks {
  /// Bytes written or read.
  std::function<void(std::uint64_t)> on_bytes;
  /// One object finished.
  std::function<void()> on_object;
};

/// What a run did.
struct WorkloadReport {
  /// Objects completed (tfrecord index objects not counted).
  std::uint64_t objects = 0;
  /// Bytes stored or read: whole objects, headers and index objects included.
  std::uint64_t bytes = 0;
  /// Wall-clock seconds of the run.
  double seconds = 0;
  /// CPU seconds of the whole process during the run (getrusage), user and system.
  double cpu_user_seconds = 0;
  double cpu_system_seconds = 0;
  /// put: the seed in use (the given one or the drawn one), to reproduce the bytes.
  std::uint64_t seed = 0;
  /// Every per-object failure.
  BatchReport batch;
};

/// Writes options.count objects to `store`. Memory: at most jobs x min(object size,
/// kWorkloadWholeObjectMaxSize) of generator buffers (objects above that stream through a writer
/// in kWorkloadStreamChunkSize chunks), plus what the store's writers hold. Bad options are an
/// error; per-object failures are in the report's batch (the run goes on).
Result<WorkloadReport> run_put_workload(ObjectStore& store, const PutWorkloadOptions& options,
                                        const CancellationToken& cancel = {},
                                        const WorkloadCallbacks& callbacks = {});

/// Reads every URI (any mix of schemes; one store per scheme from `config`) on up to `jobs`
/// threads and drops the data; memory is bounded by each store's get_to_sink.
Result<WorkloadReport> run_get_workload(const std::vector<std::string>& uris, std::size_t jobs,
                                        const Config& config, const CancellationToken& cancel = {},
                                        const WorkloadCallbacks& callbacks = {});

/// run_get_workload() over URIs that `produce` streams (a listing, a key-list file; see
/// run_streamed): memory does not grow with the number of objects. Stores are made per scheme on
/// first use; a producer error is a failure named `source_name` in the report's batch.
Result<WorkloadReport> run_get_workload_streamed(
    const std::function<Status(const WorkEmit&)>& produce, std::string_view source_name,
    std::size_t jobs, const Config& config, const CancellationToken& cancel = {},
    const WorkloadCallbacks& callbacks = {});

/// The objects (not directories) under a prefix, recursively, sorted.
Result<std::vector<std::string>> list_objects(ObjectStore& store, std::string_view prefix);

/// A key list's URIs (omnio/key_list.h: URIs, absolute paths or `ls --json` lines; blank and '#'
/// lines skipped). kInvalidArgument naming the line for a line that is not one ("line 3: ...").
Result<std::vector<std::string>> parse_keylist(std::string_view text);

}  // namespace omnio
