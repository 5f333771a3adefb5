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
  /// --keys-from FILE (alias --keylist): read the objects listed in FILE (omnio/key_list.h);
  /// the URI argument, when given, is the prefix of relative keys.
  std::string keylist;
  /// --dry-run: print what would be read, read nothing.
  bool dry_run = false;
};
struct PutArgs {
  std::string src, uri, content_type;
  std::optional<int> zstd;
  // Workload form (put PREFIX -n COUNT -s SIZE ...): given when count is.
  std::optional<std::string> count, size, seed, name_template, format;
  std::optional<std::size_t> dedup, compress, samples, jobs;
  bool index = false;
  bool dry_run = false;
};
struct CpArgs {
  std::string src, dst;
  bool recursive = false;
  std::size_t jobs = 0;
  /// --dry-run: print "(dryrun) copy: SRC to DST" per object, touch nothing.
  bool dry_run = false;
  /// --skip-existing: leave objects already at the destination (size + checksum, or size only).
  bool skip_existing = false, size_only = false;
  /// --keys-from FILE: copy the listed objects (under SRC) instead of listing SRC.
  std::string keys_from;
};
struct RmArgs {
  std::string uri;
  bool recursive = false, dry_run = false;
  /// --keys-from FILE: delete the listed objects (relative keys are under URI).
  std::string keys_from;
};

struct ReplayArgs {
  std::string log, target, source, ops;
  double speed = 1.0;
  bool continue_on_error = false;
  std::size_t jobs = 0;
  std::optional<std::uint64_t> seed;
};

struct LoadArgs {
  /// keylist: --keys-from FILE (alias --keylist); with a URI too, the prefix of relative keys.
  std::string uri, keylist;
  std::optional<std::size_t> batch_size, pool, readahead, rank, world;
  std::optional<std::uint64_t> seed, timeout_ms;
  std::optional<std::string> format, on_error, order;
  bool shuffle = false, drop_last = false, fixed_pool = false;
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
Status cmd_rm(const RmArgs& a, const Globals& g);
/// cp -r: every object under SRC/ (or of --keys-from) to DST/ (cmd_batch.cc).
Status cmd_cp_tree(const CpArgs& a, const Globals& g);
/// "(dryrun) ACTION: SRC to DST" (awscli's form), or a JSON object with --json.
void print_dry_run(const Globals& g, const char* action, const std::string& src,
                   const std::string& dst = {});
/// Every failure of a batch on stderr, one line each; marks exit code 3 when some succeeded.
void report_failures(const BatchReport& rep);
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
