// Shared CLI helpers: argument conversion, human sizes, progress, output. No storage logic here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "omnio/batch.h"
#include "omnio/cancel.h"
#include "omnio/config.h"
#include "omnio/result.h"

namespace omnio::cli {

/// Flags every command shares.
struct Globals {
  bool json = false;
  bool quiet = false;
  /// --no-progress: no progress line (the summary stays).
  bool no_progress = false;
  int verbose = 0;
  /// --endpoint-url / --region / --profile (s3://); empty = environment and profile files.
  std::string endpoint_url;
  std::string region;
  std::string profile;
  /// --range-chunk / --max-ranges: the RangeEngine of network stores (empty / 0 = defaults).
  std::string range_chunk;
  std::size_t max_ranges = 0;
  /// --part-size: multipart part / staged block / resumable chunk of network uploads, and the
  /// size up to which an upload is one request (empty = defaults).
  std::string part_size;
  /// --op-log FILE: log every storage operation of the command (".zst": compressed); empty = off.
  std::string op_log;
  /// --op-log-lossless: wait for the log writer instead of dropping records when it falls behind.
  bool op_log_lossless = false;
  /// --azure-endpoint (az://); empty = connection string / environment.
  std::string azure_endpoint;
  /// --memory-budget: the process MemoryBudget (empty = OMNIO_MEMORY_BUDGET, else the default).
  std::string memory_budget;
};

/// The store configuration built from the global flags (set once by main before any command).
Config& cli_config();

/// A URI, or a local path turned into an absolute file:// URI. Keeps a trailing '/'.
Result<std::string> to_uri(const std::string& arg);

/// "8MiB", "8MB", "8m", "1k", "1Ki", "1_000", "123": k/m/g/t = 10^3.., ki/mi/gi/ti = 2^10..; a
/// trailing 'b'/'B' is allowed. `what` names the flag in errors.
Result<std::uint64_t> parse_size(const std::string& text, const std::string& what);

/// "1.5 GiB"-style rendering.
std::string human_bytes(double bytes);

/// The process-wide cancellation token, cancelled by SIGINT/SIGTERM.
CancellationToken& interrupt_token();
/// Installs SIGINT/SIGTERM handling and ignores SIGPIPE (EPIPE on stdout ends output cleanly).
/// After a signal the command has kCliInterruptGrace to return by itself; then the finisher (if
/// any) runs and the process exits 130.
void install_signal_handlers();
/// What to run before the forced exit after SIGINT/SIGTERM (finishing the op-log); empty = none.
void set_interrupt_finisher(std::function<void()> fn);

/// Exit code 3: a command over many objects finished with some done and some failed.
void mark_partial_failure();
bool partial_failure();

/// Writes all bytes to stdout. Returns false if stdout was closed (EPIPE): the caller stops
/// quietly, which is not an error.
Result<bool> write_stdout(const void* data, std::size_t n);

/// A progress line on stderr, redrawn every kProgressInterval, only when stderr is a terminal and
/// output is not quiet or JSON.
class Progress {
 public:
  Progress(std::string label, std::optional<std::uint64_t> total_bytes, const Globals& g);
  ~Progress();
  void add(std::uint64_t bytes) { done_.fetch_add(bytes, std::memory_order_relaxed); }
  void add_object() { objects_.fetch_add(1, std::memory_order_relaxed); }
  void set_total(std::uint64_t total) { total_.store(total); }
  /// While a listing streams: adds to a total that is not final yet (shown as "of >= X, listing").
  void grow_total(std::uint64_t bytes) {
    listing_.store(true);
    total_.fetch_add(bytes, std::memory_order_relaxed);
  }
  /// The listing has ended: the total is final (percent and ETA are shown from now on).
  void total_final() { listing_.store(false); }
  std::uint64_t bytes() const { return done_.load(); }
  double seconds() const;
  /// Stops the redraw thread and clears the line.
  void finish();

 private:
  void draw(bool final);
  std::string label_;
  std::atomic<std::uint64_t> done_{0}, objects_{0}, total_{0};
  std::atomic<bool> listing_{false};
  std::chrono::steady_clock::time_point start_;
  bool enabled_;
  std::jthread thread_;
};

}  // namespace omnio::cli
