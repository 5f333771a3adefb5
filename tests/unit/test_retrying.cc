// The HTTP retry layer against a scripted loopback server: what is retried and what is not, how
// the final error reads, Retry-After within the policy's cap, the retry budget, cancellation during
// backoff, truncated bodies, and parse_retry_after.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "http/retrying.h"
#include "omnio/constants.h"
#include "support/scripted_http_server.h"

namespace omnio::http {
namespace {

using namespace std::chrono_literals;
using omnio::testing::ScriptedHttpServer;
using omnio::testing::ScriptedReply;
using omnio::testing::ScriptedRequest;
using Clock = std::chrono::steady_clock;

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

std::shared_ptr<HttpClient> client() {
  auto c = HttpClient::create(HttpConfig{});
  EXPECT_TRUE(c.ok());
  return *c;
}

RetryPolicy fast_policy(int attempts = 3) {
  RetryPolicy p;
  p.max_attempts = attempts;
  p.base_delay = 1ms;
  p.max_delay = 5ms;
  return p;
}

// A GET of `url`; records the attempt numbers `make` was called with.
RetryingCall get_call(const std::string& url, std::vector<int>* attempts = nullptr) {
  RetryingCall call;
  call.make = [url, attempts](int attempt) -> Result<Request> {
    if (attempts) attempts->push_back(attempt);
    Request r;
    r.url = url;
    r.headers = {{"X-Attempt", std::to_string(attempt)}};
    return r;
  };
  call.what = "GET " + url;
  return call;
}

// Arrival times of requests at the server.
struct Arrivals {
  std::mutex mu;
  std::vector<Clock::time_point> at;
  void record() {
    std::lock_guard g(mu);
    at.push_back(Clock::now());
  }
  double gap_seconds(std::size_t i) {
    std::lock_guard g(mu);
    return std::chrono::duration<double>(at.at(i + 1) - at.at(i)).count();
  }
};

TEST(Retrying, TwoServiceUnavailableThenSuccess) {
  std::atomic<int> n{0};
  std::mutex mu;
  std::vector<std::string> seen_attempt_headers;
  ScriptedHttpServer srv([&](const ScriptedRequest& r) {
    {
      std::lock_guard g(mu);
      seen_attempt_headers.push_back(r.headers.count("x-attempt") ? r.headers.at("x-attempt") : "");
    }
    if (++n <= 2) return ScriptedReply{503, {}, "<Error><Code>SlowDown</Code></Error>"};
    return ScriptedReply{200, {}, "payload"};
  });
  auto c = client();
  std::vector<int> made;
  auto r = perform_with_retry(c, fast_policy(), nullptr, get_call(srv.url("/obj"), &made));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "payload");
  EXPECT_EQ(srv.requests(), 3);
  // Each attempt is rebuilt by the caller.
  EXPECT_EQ(made, (std::vector<int>{1, 2, 3}));
  std::lock_guard g(mu);
  EXPECT_EQ(seen_attempt_headers, (std::vector<std::string>{"1", "2", "3"}));
}

TEST(Retrying, NonIdempotentCallIsNotRetried) {
  ScriptedHttpServer srv([](const ScriptedRequest&) { return ScriptedReply{503, {}, ""}; });
  auto c = client();
  RetryingCall call = get_call(srv.url("/post"));
  call.idempotent = false;
  auto r = perform_with_retry(c, fast_policy(), nullptr, std::move(call));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(srv.requests(), 1);
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().http_status(), 503);
  EXPECT_FALSE(contains(r.error().message(), "attempts")) << r.error().to_string();
}

TEST(Retrying, NotFoundFromCustomCheckIsNotRetried) {
  ScriptedHttpServer srv([](const ScriptedRequest&) {
    return ScriptedReply{404, {}, "<Error><Code>NoSuchKey</Code></Error>"};
  });
  auto c = client();
  RetryingCall call = get_call(srv.url("/missing"));
  int checks = 0;
  call.check = [&checks](Result<Response> r) -> Result<Response> {
    ++checks;
    if (!r.ok()) return r;
    if (r->status == 404) {
      Error e(ErrorCode::kNotFound, "no such key");
      e.with_http_status(404);
      return e;
    }
    return r;
  };
  auto r = perform_with_retry(c, fast_policy(5), nullptr, std::move(call));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.error().http_status(), 404);
  EXPECT_EQ(srv.requests(), 1);
  EXPECT_EQ(checks, 1);
}

TEST(Retrying, CustomCheckCanTurnA200IntoARetryableError) {
  // CopyObject-style: HTTP 200 with an error body, classified by the caller as transient.
  std::atomic<int> n{0};
  ScriptedHttpServer srv([&](const ScriptedRequest&) {
    if (++n == 1) return ScriptedReply{200, {}, "<Error><Code>InternalError</Code></Error>"};
    return ScriptedReply{200, {}, "<CopyObjectResult/>"};
  });
  auto c = client();
  RetryingCall call = get_call(srv.url("/copy"));
  call.check = [](Result<Response> r) -> Result<Response> {
    if (!r.ok()) return r;
    if (r->body.find("<Error>") != std::string::npos)
      return Error(ErrorCode::kUnavailable, "InternalError");
    return r;
  };
  auto r = perform_with_retry(c, fast_policy(), nullptr, std::move(call));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->body, "<CopyObjectResult/>");
  EXPECT_EQ(srv.requests(), 2);
}

TEST(Retrying, ExhaustedAttemptsNameTheCountAndKeepTheLastCause) {
  std::atomic<int> n{0};
  ScriptedHttpServer srv([&](const ScriptedRequest&) {
    const int statuses[] = {503, 500, 502};
    return ScriptedReply{statuses[std::min(n++, 2)], {}, ""};
  });
  auto c = client();
  auto r = perform_with_retry(c, fast_policy(3), nullptr, get_call(srv.url("/flaky")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(srv.requests(), 3);
  const Error& e = r.error();
  EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(contains(e.message(), "retries exhausted after 3 attempts")) << e.to_string();
  EXPECT_TRUE(contains(e.message(), srv.url("/flaky"))) << e.to_string();
  EXPECT_EQ(e.http_status(), 502);
  ASSERT_NE(e.cause(), nullptr);
  EXPECT_EQ(e.cause()->code(), ErrorCode::kUnavailable);
  EXPECT_EQ(e.cause()->http_status(), 502);  // the last attempt's error, not the first
  EXPECT_TRUE(contains(e.cause()->message(), "502")) << e.to_string();
}

TEST(Retrying, SingleAttemptPolicyReturnsTheErrorAsIs) {
  ScriptedHttpServer srv([](const ScriptedRequest&) { return ScriptedReply{503, {}, ""}; });
  auto c = client();
  auto r = perform_with_retry(c, fast_policy(1), nullptr, get_call(srv.url()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(srv.requests(), 1);
  EXPECT_EQ(r.error().http_status(), 503);
}

TEST(Retrying, RetryAfterIsHonoured) {
  Arrivals arr;
  std::atomic<int> n{0};
  ScriptedHttpServer srv([&](const ScriptedRequest&) {
    arr.record();
    if (++n == 1) return ScriptedReply{503, {{"Retry-After", "1"}}, ""};
    return ScriptedReply{200, {}, "ok"};
  });
  auto c = client();
  RetryPolicy p = fast_policy();
  p.base_delay = 1ms;
  p.max_delay = 5000ms;
  auto r = perform_with_retry(c, p, nullptr, get_call(srv.url()));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(srv.requests(), 2);
  const double gap = arr.gap_seconds(0);
  EXPECT_GE(gap, 0.9);
  EXPECT_LT(gap, 2.0);
}

TEST(Retrying, RetryAfterIsCappedByMaxDelay) {
  Arrivals arr;
  std::atomic<int> n{0};
  ScriptedHttpServer srv([&](const ScriptedRequest&) {
    arr.record();
    if (++n == 1) return ScriptedReply{503, {{"Retry-After", "1"}}, ""};
    return ScriptedReply{200, {}, "ok"};
  });
  auto c = client();
  RetryPolicy p = fast_policy();
  p.base_delay = 1ms;
  p.max_delay = 200ms;
  auto r = perform_with_retry(c, p, nullptr, get_call(srv.url()));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(srv.requests(), 2);
  const double gap = arr.gap_seconds(0);
  EXPECT_GE(gap, 0.15);  // the hint still lengthens the wait up to the cap
  EXPECT_LT(gap, 0.9);
}

TEST(Retrying, HugeRetryAfterWaitsTheCapNotZero) {
  // A delta-seconds value too large for milliseconds must still mean "wait as long as allowed".
  for (const char* hint : {"99999999999999999999", "1e300"}) {
    Arrivals arr;
    std::atomic<int> n{0};
    ScriptedHttpServer srv([&](const ScriptedRequest&) {
      arr.record();
      if (++n == 1) return ScriptedReply{503, {{"Retry-After", hint}}, ""};
      return ScriptedReply{200, {}, "ok"};
    });
    auto c = client();
    RetryPolicy p = fast_policy();
    p.base_delay = 1ms;
    p.max_delay = 200ms;
    auto r = perform_with_retry(c, p, nullptr, get_call(srv.url()));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_EQ(srv.requests(), 2);
    const double gap = arr.gap_seconds(0);
    EXPECT_GE(gap, 0.15) << hint;
    EXPECT_LT(gap, 0.9) << hint;
  }
}

TEST(RetryBudget, AcquireAndRefundArithmetic) {
  RetryBudget b(10);
  EXPECT_EQ(b.available(), 10);
  EXPECT_TRUE(b.try_acquire(5));
  EXPECT_EQ(b.available(), 5);
  EXPECT_FALSE(b.try_acquire(6));  // too few: takes nothing
  EXPECT_EQ(b.available(), 5);
  EXPECT_TRUE(b.try_acquire(5));
  EXPECT_EQ(b.available(), 0);
  EXPECT_FALSE(b.try_acquire(1));
  EXPECT_EQ(b.available(), 0);
  b.refund(3);
  EXPECT_EQ(b.available(), 3);
  b.refund(100);  // never above the initial amount
  EXPECT_EQ(b.available(), 10);
  b.refund(1);
  EXPECT_EQ(b.available(), 10);
}

TEST(RetryBudget, ConcurrentAcquireNeverOverdraws) {
  RetryBudget b(1000);
  std::atomic<int> granted{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (b.try_acquire(5)) ++granted;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(granted.load(), 200);
  EXPECT_EQ(b.available(), 0);
}

TEST(Retrying, RetriesSpendTheBudgetAndSuccessRefunds) {
  std::atomic<int> n{0};
  ScriptedHttpServer srv([&](const ScriptedRequest&) {
    if (++n <= 2) return ScriptedReply{503, {}, ""};
    return ScriptedReply{200, {}, "ok"};
  });
  auto c = client();
  auto budget = std::make_shared<RetryBudget>(100);
  auto r = perform_with_retry(c, fast_policy(), budget, get_call(srv.url()));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(budget->available(), 100 - 2 * kRetryCost + kRetrySuccessRefund);
}

TEST(Retrying, EmptyBudgetStopsRetries) {
  ScriptedHttpServer srv([](const ScriptedRequest&) { return ScriptedReply{503, {}, ""}; });
  auto c = client();
  auto budget = std::make_shared<RetryBudget>(kRetryCost - 1);
  auto r = perform_with_retry(c, fast_policy(5), budget, get_call(srv.url("/b")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(srv.requests(), 1);
  EXPECT_TRUE(contains(r.error().message(), "retry budget")) << r.error().to_string();
  EXPECT_EQ(r.error().http_status(), 503);
  ASSERT_NE(r.error().cause(), nullptr);
  EXPECT_EQ(r.error().cause()->http_status(), 503);
  EXPECT_EQ(budget->available(), kRetryCost - 1);  // nothing taken
}

TEST(Retrying, CancelDuringLongBackoffEndsPromptly) {
  ScriptedHttpServer srv([](const ScriptedRequest&) {
    return ScriptedReply{503, {{"Retry-After", "10"}}, ""};
  });
  auto c = client();
  RetryPolicy p;
  p.max_attempts = 3;
  p.base_delay = 10s;
  p.max_delay = 10s;
  RetryingCall call = get_call(srv.url("/slow"));
  CancellationToken cancel;
  call.cancel = cancel;

  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<Response>> out;
  Clock::time_point done_at;
  submit_with_retry(c, p, nullptr, std::move(call), [&](Result<Response> r) {
    std::lock_guard g(mu);
    done_at = Clock::now();
    out.emplace(std::move(r));
    cv.notify_one();
  });
  // Let the first attempt fail and the 10 s backoff start.
  const auto deadline = Clock::now() + 5s;
  while (srv.requests() < 1 && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(srv.requests(), 1);
  std::this_thread::sleep_for(150ms);
  {
    std::lock_guard g(mu);
    ASSERT_FALSE(out.has_value()) << "completed before the backoff was cancelled";
  }
  const auto cancelled_at = Clock::now();
  cancel.cancel();
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 3s, [&] { return out.has_value(); }));
  EXPECT_LT(std::chrono::duration<double>(done_at - cancelled_at).count(), 0.5);
  ASSERT_FALSE(out->ok());
  EXPECT_EQ(out->error().code(), ErrorCode::kCancelled) << out->error().to_string();
  ASSERT_NE(out->error().cause(), nullptr);  // what it was waiting to retry
  EXPECT_EQ(out->error().cause()->http_status(), 503);
  EXPECT_EQ(srv.requests(), 1);
}

TEST(Retrying, TruncatedBodyIsRetried) {
  const std::string body(64 * 1024, 'q');
  std::atomic<int> n{0};
  ScriptedHttpServer srv([&](const ScriptedRequest&) {
    ScriptedReply rep{200, {}, body};
    if (++n == 1) {
      rep.content_length = static_cast<long long>(body.size());
      rep.cut_after = 1000;
    }
    return rep;
  });
  auto c = client();
  auto r = perform_with_retry(c, fast_policy(), nullptr, get_call(srv.url("/cut")));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->body.size(), body.size());
  EXPECT_EQ(r->body, body);
  EXPECT_EQ(srv.requests(), 2);
}

TEST(Retrying, TruncatedBodyIntoDestinationIsRetried) {
  std::string body(10000, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  std::atomic<int> n{0};
  ScriptedHttpServer srv([&](const ScriptedRequest&) {
    ScriptedReply rep{200, {}, body};
    if (++n <= 2) rep.cut_after = 100 * n;
    return rep;
  });
  auto c = client();
  std::vector<std::byte> dest(body.size());
  RetryingCall call;
  call.make = [&](int) -> Result<Request> {
    Request r;
    r.url = srv.url("/dest");
    r.dest = dest;
    r.has_dest = true;
    return r;
  };
  call.what = "GET dest";
  auto r = perform_with_retry(c, fast_policy(3), nullptr, std::move(call));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(srv.requests(), 3);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(dest.data()), dest.size()), body);
}

TEST(Retrying, MakeFailureIsReturned) {
  ScriptedHttpServer srv([](const ScriptedRequest&) { return ScriptedReply{200, {}, ""}; });
  auto c = client();
  RetryingCall call;
  call.make = [](int) -> Result<Request> {
    return Error(ErrorCode::kUnauthenticated, "no credentials");
  };
  call.what = "GET x";
  auto r = perform_with_retry(c, fast_policy(), nullptr, std::move(call));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(srv.requests(), 0);
}

TEST(ParseRetryAfter, DeltaSecondsOnly) {
  EXPECT_DOUBLE_EQ(parse_retry_after("5"), 5.0);
  EXPECT_DOUBLE_EQ(parse_retry_after("0"), 0.0);
  EXPECT_DOUBLE_EQ(parse_retry_after("120"), 120.0);
  EXPECT_DOUBLE_EQ(parse_retry_after("1.5"), 1.5);
  EXPECT_EQ(parse_retry_after(""), -1);
  EXPECT_EQ(parse_retry_after("abc"), -1);
  EXPECT_EQ(parse_retry_after("-1"), -1);
  EXPECT_EQ(parse_retry_after("5s"), -1);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), -1);
  EXPECT_EQ(parse_retry_after("nan"), -1);
  EXPECT_EQ(parse_retry_after("inf"), -1);
}

}  // namespace
}  // namespace omnio::http
