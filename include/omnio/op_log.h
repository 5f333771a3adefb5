// OpLog: a trace of storage operations, one TSV line per operation, in the 13 columns of MinIO
// warp's operation log, written by one background thread from a bounded queue.
//
//   idx thread op client_id n_objects bytes endpoint file error start first_byte end duration_ns
//
// - idx: 0-based, in the order records reach the writer (operations are recorded when they end,
//   so the log is in completion order, not start order).
// - thread: a small number per OS thread of the process (1, 2, ...), never an OS id or a hash.
// - endpoint + file == the URI the caller used, exactly (split with split_uri_for_log()); userinfo
//   and query strings are removed first, so no credential or signature reaches the log.
// - start, first_byte, end: RFC 3339 UTC with nanoseconds ("2026-11-30T10:56:16.123456789Z"),
//   taken from the steady clock and anchored once to the wall clock when the log opens, so
//   end - start == duration_ns exactly and time never goes backwards inside one log.
//   first_byte is empty when it was not measured (see logged_store.h for which operations measure
//   it).
// - error: empty on success, else Error::to_string() ("[not_found] stat file:///x: ...").
// - Tabs, newlines, carriage returns and backslashes inside endpoint, file, error and client_id
//   are written as \t, \n, \r and \\ (read_op_log undoes this), so every line has 13 fields.
// - The last line is a trailer "# omnio-op-log records=N dropped=D". A log without it was not
//   closed (the process was killed with SIGKILL or crashed).
//
// A name ending in ".zst" is one zstd frame (content checksum on), flushed after every batch so a
// killed process still leaves decodable lines, and ended properly by close(), by the destructor and
// by the CLI's SIGINT path.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "omnio/constants.h"
#include "omnio/result.h"

namespace omnio {

/// How to open an op-log.
struct OpLogOptions {
  /// Local file to create (truncated if it exists). Ends in ".zst": zstd-compressed.
  std::string path;
  /// Records queued before producers wait, entries (>= 1). Default kDefaultOpLogQueueCapacity.
  std::size_t queue_capacity = kDefaultOpLogQueueCapacity;
  /// false (default): a producer that finds the queue full waits up to `block_timeout`, then the
  /// record is dropped and counted (dropped(), the trailer). true: it waits until there is room,
  /// so nothing is lost and the operations being logged slow down to the writer's pace.
  bool lossless = false;
  /// Default mode's wait for queue space. Default kDefaultOpLogBlockTimeout (10 ms).
  std::chrono::milliseconds block_timeout = kDefaultOpLogBlockTimeout;
  /// zstd level for ".zst" files, kMinZstdLevel..kMaxZstdLevel. Default kDefaultOpLogZstdLevel (1).
  int zstd_level = kDefaultOpLogZstdLevel;
  /// Written in the client_id column of every line (e.g. a host or job name). Default empty. Never
  /// filled from credentials.
  std::string client_id;

  /// kInvalidArgument naming the field.
  Status validate() const;
};

/// One finished operation, as the store decorator (or any caller) reports it.
struct OpRecord {
  /// Operation name: GET, GET_RANGE, PUT, STAT, LIST, DELETE, DELETE_PREFIX, COPY, RENAME,
  /// CREATE_CONTAINER, DELETE_CONTAINER, LIST_CONTAINERS.
  std::string op;
  /// See split_uri_for_log().
  std::string endpoint;
  std::string file;
  /// Objects the operation touched (1 for single-object calls, the count for LIST/DELETE_PREFIX).
  std::uint64_t n_objects = 1;
  /// Payload bytes moved (GET/PUT), or the object size (STAT); 0 otherwise.
  std::uint64_t bytes = 0;
  /// Empty on success.
  std::string error;
  std::chrono::steady_clock::time_point start;
  /// Absent when not measured.
  std::optional<std::chrono::steady_clock::time_point> first_byte;
  std::chrono::steady_clock::time_point end;
};

/// An OpRecord that borrows its strings: record(const OpRecordView&) copies them into the queue
/// before it returns, so the store decorator logs an operation without building strings.
struct OpRecordView {
  std::string_view op;
  std::string_view endpoint;
  std::string_view file;
  std::string_view error;
  std::uint64_t n_objects = 1;
  std::uint64_t bytes = 0;
  std::chrono::steady_clock::time_point start;
  std::optional<std::chrono::steady_clock::time_point> first_byte;
  std::chrono::steady_clock::time_point end;
};

/// split_uri_for_log() without copying: true and the two columns as views into `uri` when the URI
/// has no "user:password@" (the common case); false when it has, and the caller must use
/// split_uri_for_log().
bool split_uri_for_log_view(std::string_view uri, std::string_view* endpoint,
                            std::string_view* file);

/// Splits a URI into the log's endpoint and file columns so that endpoint + file == the URI after
/// removing any "user:password@" and "?query" (which can carry SAS tokens or presigned
/// signatures). endpoint is "scheme://authority" ("s3://bucket", "file://", "direct://",
/// "az://account"); file is the rest, starting with '/' when not empty.
std::pair<std::string, std::string> split_uri_for_log(std::string_view uri);

/// Removes "user:password@" from every "scheme://user:password@host" inside `text` (used on error
/// messages before they are logged).
std::string redact_userinfo(std::string_view text);

/// The op-log writer. Thread-safe: any number of threads call record().
class OpLog {
 public:
  /// Creates the file, writes the header line and starts the writer thread.
  static Result<std::shared_ptr<OpLog>> open(const OpLogOptions& options);

  /// Closes (see close()); errors are lost here, so call close() to see them.
  ~OpLog();
  OpLog(const OpLog&) = delete;
  OpLog& operator=(const OpLog&) = delete;

  /// Queues one record. Never fails and never throws; a record that cannot be queued (full queue in
  /// default mode, or after close()) is counted in dropped().
  void record(OpRecord rec);
  /// The same, from borrowed strings (see OpRecordView).
  void record(const OpRecordView& rec);

  /// Writes every queued record, the trailer, ends the zstd frame and closes the file. Idempotent
  /// and thread-safe (a second caller waits for the first and gets its result). Returns the first
  /// write error, if any.
  Status close();

  /// Records written to the file so far.
  std::uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  /// Records lost: full queue (default mode), record() after close(), or a write error.
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  /// The file this log writes.
  const std::string& path() const;

 private:
  struct Impl;
  friend struct OpLogTestAccess;
  explicit OpLog(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

/// Formats a wall-clock time as RFC 3339 UTC with nine fractional digits.
std::string format_rfc3339_ns(std::int64_t unix_ns);
/// Parses RFC 3339 ("...Z" or "...+hh:mm", 0-9 fractional digits) to Unix nanoseconds.
Result<std::int64_t> parse_rfc3339_ns(std::string_view text);

}  // namespace omnio
