// Retries over HttpClient: each attempt is rebuilt (and re-signed) by the caller, failures are
// classified by RetryPolicy, backoff waits on a shared timer thread (no thread blocks), a
// per-endpoint RetryBudget stops retry storms, and Retry-After is honoured. Every attempt is logged
// at debug level; the final error names the attempts and the time spent and keeps the last cause.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "http/http_client.h"
#include "omnio/retry.h"

namespace omnio::http {

/// Token bucket shared by the requests to one endpoint (AWS SDK "standard" retry quota).
class RetryBudget {
 public:
  explicit RetryBudget(int tokens);
  /// The budget of `endpoint` ("https://s3.us-east-1.amazonaws.com"), shared by every store of
  /// the process that talks to it (kRetryBudgetTokens tokens; kept while a store holds it).
  static std::shared_ptr<RetryBudget> for_endpoint(const std::string& endpoint);
  /// Takes `cost` tokens for a retry; false (and takes nothing) when too few are left.
  bool try_acquire(int cost);
  /// Gives back tokens after a success (never above the initial amount).
  void refund(int n);
  int available() const { return tokens_.load(std::memory_order_relaxed); }

 private:
  const int capacity_;
  std::atomic<int> tokens_;
};

/// One logical request, possibly sent several times.
struct RetryingCall {
  /// Builds attempt `attempt` (1-based): a fresh date and signature each time.
  std::function<Result<Request>(int attempt)> make;
  /// Turns a transport result into success or a typed error (HTTP status -> ErrorCode). Default:
  /// transport errors pass through, 2xx is success, anything else is kUnavailable.
  std::function<Result<Response>(Result<Response>)> check;
  /// Only idempotent requests are retried.
  bool idempotent = true;
  /// "GET s3://bucket/key bytes=0-99" for logs and errors.
  std::string what;
  CancellationToken cancel;
};

/// Sends `call`, retrying under `policy` and `budget` (may be null: unlimited). `done` runs exactly
/// once, on an HTTP loop or the timer thread. A failure carries an ErrorDetail with the operation,
/// URI, attempts made of those allowed and the time spent; after retries its message reads
/// "<what>: retries exhausted after N attempts over T s: <last cause>". The client must outlive the
/// call (until `done` ran).
void submit_with_retry(const std::shared_ptr<HttpClient>& client, const RetryPolicy& policy,
                       const std::shared_ptr<RetryBudget>& budget, RetryingCall call,
                       Completion done);

/// Synchronous form.
Result<Response> perform_with_retry(const std::shared_ptr<HttpClient>& client,
                                    const RetryPolicy& policy,
                                    const std::shared_ptr<RetryBudget>& budget, RetryingCall call);

/// True when the service asked us to slow down: HTTP 429, or 503 classified as throttling
/// (SlowDown, ServerBusy), anywhere in the chain. Retried with a longer backoff at
/// kRetryThrottleCost.
bool is_throttling(const Error& e);

/// Seconds of a Retry-After header (delta-seconds form), or -1.
double parse_retry_after(std::string_view value);

}  // namespace omnio::http
