#include "omnio/retry.h"

#include <algorithm>
#include <cmath>

namespace omnio {

Status RetryPolicy::validate() const {
  if (max_attempts < 1)
    return Error(ErrorCode::kInvalidArgument, "retry.max_attempts must be >= 1");
  if (base_delay.count() < 0 || max_delay < base_delay) {
    return Error(ErrorCode::kInvalidArgument,
                 "retry delays must satisfy 0 <= retry.base_delay <= retry.max_delay");
  }
  return ok_status();
}

bool RetryPolicy::is_retryable(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kDeadlineExceeded:
      return true;
    case ErrorCode::kResourceExhausted:
      return e.http_status() == 429 || e.http_status() == 503;
    case ErrorCode::kInternal:
      return e.http_status() >= 500;
    // A request body the server received corrupted (HTTP 400 digest mismatch): send it again.
    case ErrorCode::kDataLoss:
      return e.http_status() == 400;
    default:
      return false;
  }
}

std::chrono::milliseconds RetryPolicy::backoff(int attempt, double random01) const {
  if (attempt <= 1) return std::chrono::milliseconds(0);
  const double ceiling = std::min<double>(
      static_cast<double>(max_delay.count()),
      static_cast<double>(base_delay.count()) * std::ldexp(1.0, std::min(attempt - 2, 30)));
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(ceiling * std::clamp(random01, 0.0, 1.0)));
}

}  // namespace omnio
