// Replays an op-log (op_log.h / op_log_reader.h) against a store: each operation starts at its
// original offset from the log's first start, divided by `speed`, with bounded memory and bounded
// concurrency.
//
// How it runs:
// 1. A first streaming pass validates every line (a malformed line fails before anything runs),
//    finds the earliest start time and, when retargeting without an explicit source, the source
//    prefix.
// 2. A second pass reads lines into a reorder window of `reorder_window` entries (logs are in
//    completion order) and hands the earliest one to a worker when its time comes. At most
//    `concurrency` operations run at once and at most that many wait for a worker, so memory does
//    not grow with the log.
//
// Retargeting is a prefix replacement: an operation's URI (endpoint + file) must start with the
// source prefix, which is replaced by `target`. Without `source` the source prefix is the longest
// common prefix of every URI in the log, cut after its last '/' ("file:///data/run1/"), so
// `--target file:///scratch/run2/` moves a whole recorded tree. A source ending in '/' makes the
// target end in '/' too.
//
// Operations: GET (get_to_sink, data discarded), GET_RANGE (get_range of `bytes` bytes from offset
// 0: the offset is not in the log), PUT (data generated with omnio::generate / DataGenerator of the
// logged size, seeded by `seed` and the line's idx), STAT (HEAD is an alias), LIST (recursive),
// DELETE, DELETE_PREFIX, CREATE_CONTAINER, DELETE_CONTAINER. COPY, RENAME and LIST_CONTAINERS are
// skipped and counted (the log has no destination column). Any other op name is an error at its
// line. An operation that failed in the log (error column set) and fails again is an "expected
// failure": counted, never a reason to stop.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "omnio/cancel.h"
#include "omnio/config.h"
#include "omnio/constants.h"
#include "omnio/result.h"

namespace omnio {

/// What to replay and how.
struct ReplayOptions {
  /// The op-log (TSV, plain or zstd).
  std::string log_path;
  /// New prefix for every URI; absent: replay against the URIs in the log.
  std::optional<std::string> target;
  /// Prefix of the logged URIs that `target` replaces; absent: the log's common prefix (see above).
  std::optional<std::string> source;
  /// Time scale: 2 = twice as fast, 0.5 = half speed. Must be finite and > 0. Default 1.
  double speed = 1.0;
  /// false (default): the first unexpected failure stops the replay (operations in flight finish)
  /// and is returned. true: failures are counted and the replay goes on.
  bool continue_on_error = false;
  /// Replay only these ops (upper case, e.g. {"GET", "PUT"}); empty = all.
  std::vector<std::string> ops;
  /// Operations in flight, >= 1. Default kDefaultReplayConcurrency (64).
  std::size_t concurrency = kDefaultReplayConcurrency;
  /// Lines re-sorted by start time, >= 1. Default kDefaultReplayReorderWindow (16,384).
  std::size_t reorder_window = kDefaultReplayReorderWindow;
  /// Seed of the PUT data; absent: random_seed() once per replay.
  std::optional<std::uint64_t> seed;
  /// Stores are built with store_for_uri(uri, config) (set config.op_log to log the replay).
  Config config;
  /// Stops the replay (kCancelled) after the operations in flight finish.
  CancellationToken cancel;

  /// kInvalidArgument naming the field ("replay: speed must be > 0 (got 0)").
  Status validate() const;
};

/// Per-op totals of one replay.
struct ReplayOpStats {
  /// Operations replayed.
  std::uint64_t count = 0;
  /// Replayed operations that failed although the log recorded success.
  std::uint64_t errors = 0;
  /// Replayed operations that failed as they had in the log.
  std::uint64_t expected_errors = 0;
  /// Bytes the replay moved (GET/GET_RANGE/PUT) and the log says the originals moved.
  std::uint64_t bytes = 0;
  std::uint64_t logged_bytes = 0;
};

/// The outcome of replay().
struct ReplayReport {
  /// Keyed by op name.
  std::map<std::string, ReplayOpStats> ops;
  /// Lines left out by `ops`.
  std::uint64_t filtered = 0;
  /// COPY, RENAME, LIST_CONTAINERS lines (cannot be replayed from the log's columns).
  std::uint64_t skipped = 0;
  /// The prefix replacement in effect (empty when not retargeting).
  std::string source_prefix;
  std::string target_prefix;
  /// The log's span (last start - first start) divided by speed, and the replay's wall time from
  /// the first scheduled start to the last started operation, ns.
  std::int64_t scheduled_span_ns = 0;
  std::int64_t actual_span_ns = 0;
  /// Start lateness (actual start - scheduled start) over all replayed operations, ns.
  std::int64_t drift_mean_ns = 0;
  std::int64_t drift_p50_ns = 0;
  std::int64_t drift_p99_ns = 0;
  std::int64_t drift_max_ns = 0;
  /// The log's trailer: the original run's recorded and dropped counts (absent: log not closed).
  std::optional<std::uint64_t> log_records;
  std::optional<std::uint64_t> log_dropped;
  /// Up to 10 unexpected failures, "line N OP URI: error".
  std::vector<std::string> failures;
  /// The first unexpected failure (with continue_on_error), wrapped with its line, op and URI.
  std::optional<Error> first_failure;

  /// Total unexpected failures.
  std::uint64_t total_errors() const;
  /// Total operations replayed.
  std::uint64_t total_ops() const;
};

/// Replays the log. Errors: bad options, unreadable or malformed log (with its line number), and,
/// without continue_on_error, the first unexpected operation failure ("replay line N GET uri:
/// ..."). With continue_on_error the report counts failures and the result is the report.
Result<ReplayReport> replay(const ReplayOptions& options);

}  // namespace omnio
