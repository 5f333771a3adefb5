// BatchReport: the outcome of an operation over many objects (copy, delete, read), with every
// per-item failure kept so callers can list them and tell "some failed" from "all failed".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "omnio/error.h"
#include "omnio/result.h"

namespace omnio {

/// Outcome of a batch: how many items succeeded, and each failure with its item.
struct BatchReport {
  std::uint64_t succeeded = 0;
  std::vector<std::pair<std::string, Error>> failures;
  /// Items never started because the batch was cancelled (not in `failures`).
  std::uint64_t not_started = 0;
  /// run_streamed: the producer (a listing, a key list) failed; its error is among `failures`,
  /// named by the run's source name. Callers tell it from item failures by this, not by name.
  bool source_failed = false;
  /// kOk when nothing failed; otherwise an error that counts and names the failures.
  Status status(std::string_view what) const;
  /// Items cancelled: failures with kCancelled (stopped mid-way) plus those never started.
  std::uint64_t cancelled() const;
  /// Nothing failed and nothing was left unstarted.
  bool complete() const { return failures.empty() && not_started == 0; }
  /// Some items succeeded and some did not (the CLI's exit code 3).
  bool partial() const { return succeeded > 0 && !complete(); }
  /// Adds another report's counts and failures to this one.
  void merge(BatchReport&& other);
};

}  // namespace omnio
