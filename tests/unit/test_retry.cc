#include <gtest/gtest.h>

#include "omnio/retry.h"

namespace omnio {
namespace {

using std::chrono::milliseconds;

TEST(RetryPolicy, WhatIsRetryable) {
  EXPECT_TRUE(RetryPolicy::is_retryable(Error(ErrorCode::kUnavailable, "reset")));
  EXPECT_TRUE(RetryPolicy::is_retryable(Error(ErrorCode::kDeadlineExceeded, "stall")));
  Error slow(ErrorCode::kResourceExhausted, "SlowDown");
  slow.with_http_status(503);
  EXPECT_TRUE(RetryPolicy::is_retryable(slow));
  EXPECT_FALSE(RetryPolicy::is_retryable(Error(ErrorCode::kResourceExhausted, "disk full")));
  for (auto c : {ErrorCode::kNotFound, ErrorCode::kInvalidArgument, ErrorCode::kPermissionDenied,
                 ErrorCode::kUnauthenticated, ErrorCode::kCancelled, ErrorCode::kDataLoss}) {
    EXPECT_FALSE(RetryPolicy::is_retryable(Error(c, "x"))) << error_code_name(c);
  }
  Error changed(ErrorCode::kDataLoss, "object changed mid-read");
  changed.with_http_status(412);
  EXPECT_FALSE(RetryPolicy::is_retryable(changed));
  Error corrupted(ErrorCode::kDataLoss, "XAmzContentSHA256Mismatch");
  corrupted.with_http_status(400);
  EXPECT_TRUE(RetryPolicy::is_retryable(corrupted));  // the body is re-sent from the source
}

TEST(RetryPolicy, FullJitterBackoffIsBounded) {
  RetryPolicy p;
  p.base_delay = milliseconds(100);
  p.max_delay = milliseconds(1000);
  EXPECT_EQ(p.backoff(1, 0.99), milliseconds(0));
  EXPECT_EQ(p.backoff(2, 0.5), milliseconds(50));    // ceiling 100
  EXPECT_EQ(p.backoff(3, 0.5), milliseconds(100));   // ceiling 200
  EXPECT_EQ(p.backoff(10, 0.5), milliseconds(500));  // capped at 1000
  EXPECT_EQ(p.backoff(100, 0.0), milliseconds(0));
  EXPECT_TRUE(p.validate().ok());
  p.max_attempts = 0;
  EXPECT_FALSE(p.validate().ok());
}

}  // namespace
}  // namespace omnio
