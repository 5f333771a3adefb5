// RetryPolicy: bounded attempts, exponential backoff with full jitter, and which failures are
// worth retrying. Idempotency is the caller's decision: only idempotent requests are retried.
#pragma once

#include <chrono>
#include <cstdint>

#include "omnio/error.h"
#include "omnio/result.h"

namespace omnio {

/// How failed idempotent operations are retried.
struct RetryPolicy {
  /// Total attempts including the first (1 = no retries).
  int max_attempts = 3;
  /// First backoff ceiling; attempt n waits uniform(0, min(max_delay, base_delay * 2^(n-1))).
  std::chrono::milliseconds base_delay{100};
  /// Cap of one backoff.
  std::chrono::milliseconds max_delay{5000};

  Status validate() const;

  /// True for transient failures: kUnavailable, kDeadlineExceeded (a stall or timeout), and
  /// kResourceExhausted caused by throttling (HTTP 429/503), and kDataLoss with HTTP 400 (the
  /// server received a corrupted request body: digest mismatch). Never for kNotFound,
  /// kInvalidArgument, kPermissionDenied, kUnauthenticated, kDataLoss of a response (checksum,
  /// 412), kCancelled.
  static bool is_retryable(const Error& e);

  /// Full-jitter delay before attempt `attempt` (2 = first retry), from `random01` in [0, 1).
  std::chrono::milliseconds backoff(int attempt, double random01) const;
};

}  // namespace omnio
