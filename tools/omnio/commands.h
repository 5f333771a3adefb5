// One function per subcommand; each returns a Status that main() turns into the exit code.
#pragma once

#include <optional>
#include <string>

#include "cli_util.h"
#include "omnio/result.h"

namespace omnio::cli {

struct LsArgs {
  std::string uri;
  bool recursive = false, long_format = false, summary = false;
  std::string glob;
};
struct GetArgs {
  std::string uri, dest;
  std::optional<std::string> offset, length;
  bool discard = false, recursive = false;
  std::size_t jobs = 0;
  /// -j was given: with --discard it asks for the many-object (benchmark) form.
  bool jobs_given = false;
  /// --keylist FILE: read the URIs listed in FILE (one per line).
  std::string keylist;
};
struct PutArgs {
  std::string src, uri, content_type;
  std::optional<int> zstd;
  // Workload form (put PREFIX -n COUNT -s SIZE ...): given when count is.
  std::optional<std::string> count, size, seed, name_template, format;
  std::optional<std::size_t> dedup, compress, samples, jobs;
  bool index = false;
};
struct CpArgs {
  std::string src, dst;
  bool recursive = false;
  std::size_t jobs = 0;
};

struct ReplayArgs {
  std::string log, target, source, ops;
  double speed = 1.0;
  bool continue_on_error = false;
  std::size_t jobs = 0;
  std::optional<std::uint64_t> seed;
};

struct LoadArgs {
  std::string uri, keylist;
  std::optional<std::size_t> batch_size, pool, readahead, rank, world;
  std::optional<std::uint64_t> seed, timeout_ms;
  std::optional<std::string> format, on_error, order;
  bool shuffle = false, drop_last = false;
  std::size_t epochs = 1;
};

Status cmd_ls(const LsArgs& a, const Globals& g);
Status cmd_stat(const std::string& uri, const Globals& g);
Status cmd_get(const GetArgs& a, const Globals& g);
Status cmd_put(const PutArgs& a, const Globals& g);
/// put -n: the workload generator (cmd_workload.cc).
Status cmd_put_workload(const PutArgs& a, const Globals& g);
/// get --discard over a prefix (-r, a trailing '/', or -j) or a --keylist (cmd_workload.cc).
Status cmd_get_workload(const GetArgs& a, const Globals& g);
Status cmd_cp(const CpArgs& a, const Globals& g);
Status cmd_rm(const std::string& uri, bool recursive, const Globals& g);
Status cmd_mb(const std::string& uri, const Globals& g);
Status cmd_rb(const std::string& uri, const Globals& g);
Status cmd_replay(const ReplayArgs& a, const Globals& g);
/// load: the DataLoader over a prefix or key list, data dropped (cmd_load.cc).
Status cmd_load(const LoadArgs& a, const Globals& g);

/// --op-log: opens the log and makes every store of the command log into it (cli_config().op_log).
Status start_op_log(const Globals& g);
/// Finishes the op-log (trailer, complete zstd frame) and reports its record and drop counts.
Status finish_op_log(const Globals& g);

/// "-j N" within 1..kMaxCliJobs (0 = not given).
Status check_jobs(std::size_t j);
/// Prints one line to stdout; false when stdout is closed.
bool print_line(const std::string& line);
/// "get: 2.00 GiB in 1.23 s (1.63 GiB/s)" on stderr unless quiet; a JSON object on stdout with
/// --json.
void report_transfer(const Globals& g, const std::string& op, std::uint64_t bytes, double seconds,
                     std::uint64_t objects);

}  // namespace omnio::cli
