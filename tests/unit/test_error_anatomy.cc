// Errors that explain themselves, throttling-aware retries and the ramped start, against a
// scripted loopback server (omnio's own logic; the services' own answers are checked by the
// s3/azure/gcs integration tests): ErrorDetail merging along the cause chain, the transport cause
// of each failure kind, the one-line "retries exhausted" message with attempts and elapsed time,
// throttling's cheaper retry cost, one RetryBudget per endpoint, a dead S3 endpoint failing fast,
// and 1,000 simultaneous first requests completing without a connect error.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "http/http_client.h"
#include "http/retrying.h"
#include "omnio/constants.h"
#include "omnio/store_factory.h"
#include "support/scripted_http_server.h"

namespace omnio {
namespace {

using namespace std::chrono_literals;
using omnio::testing::ScriptedHttpServer;
using omnio::testing::ScriptedReply;
using omnio::testing::ScriptedRequest;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;
using ::testing::Not;

// An s3:// configuration whose endpoint nothing listens on.
Config dead_s3(int port) {
  Config c;
  c.s3.endpoint = "http://127.0.0.1:" + std::to_string(port);
  c.s3.access_key_id = "k";
  c.s3.secret_access_key = "s";
  return c;
}

std::shared_ptr<http::HttpClient> client(http::HttpConfig cfg = {}) {
  auto c = http::HttpClient::create(cfg);
  EXPECT_TRUE(c.ok());
  return *c;
}

// A port nothing listens on (a server's, after it closed).
int dead_port() {
  ScriptedHttpServer srv([](const ScriptedRequest&) { return ScriptedReply{}; });
  return std::stoi(srv.url().substr(17));
}

TEST(ErrorDetail, SuccessPathCarriesNone) {
  Error e(ErrorCode::kNotFound, "x");
  EXPECT_EQ(e.detail(), nullptr);
  EXPECT_EQ(e.details().attempts, 0);
  EXPECT_EQ(e.details().transport, TransportCause::kNone);
}

TEST(ErrorDetail, OuterFieldsWinAndInnerOnesSurviveWrap) {
  ErrorDetail inner;
  inner.service_code = "NoSuchKey";
  inner.request_id = "req-1";
  inner.endpoint = "http://inner";
  Error e(ErrorCode::kNotFound, "GET s3://b/k: NoSuchKey");
  e.with_http_status(404).with_detail(inner);
  Error outer = e.wrap("get s3://b/k");
  ErrorDetail od;
  od.endpoint = "http://outer";
  od.attempts = 2;
  od.max_attempts = 3;
  od.elapsed_seconds = 1.5;
  outer.with_detail(od);
  const ErrorDetail d = outer.details();
  EXPECT_EQ(d.service_code, "NoSuchKey");
  EXPECT_EQ(d.request_id, "req-1");
  EXPECT_EQ(d.endpoint, "http://outer");
  EXPECT_EQ(d.attempts, 2);
  EXPECT_EQ(d.max_attempts, 3);
  EXPECT_DOUBLE_EQ(d.elapsed_seconds, 1.5);
  EXPECT_EQ(outer.http_status(), 0);
  EXPECT_EQ(outer.chain_http_status(), 404);
}

TEST(ErrorDetail, WithDetailKeepsFieldsTheNewOneLacks) {
  Error e(ErrorCode::kUnavailable, "x");
  ErrorDetail a;
  a.request_id = "r";
  a.transport = TransportCause::kStallTimeout;
  e.with_detail(a);
  ErrorDetail b;
  b.attempts = 3;
  e.with_detail(b);
  EXPECT_EQ(e.detail()->request_id, "r");
  EXPECT_EQ(e.detail()->attempts, 3);
  EXPECT_EQ(e.detail()->transport, TransportCause::kStallTimeout);
}

TEST(ErrorDetail, TransportCauseNamesAreStable) {
  EXPECT_EQ(transport_cause_name(TransportCause::kConnectRefused), "connect_refused");
  EXPECT_EQ(transport_cause_name(TransportCause::kConnectTimeout), "connect_timeout");
  EXPECT_EQ(transport_cause_name(TransportCause::kStallTimeout), "stall_timeout");
  EXPECT_EQ(transport_cause_name(TransportCause::kRequestTimeout), "request_timeout");
  EXPECT_EQ(transport_cause_name(TransportCause::kDns), "dns");
  EXPECT_EQ(transport_cause_name(TransportCause::kTls), "tls");
}

TEST(TransportCause, ConnectionRefusedNamesTheEndpoint) {
  const int port = dead_port();
  auto c = client();
  http::Request req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/bucket/key";
  auto r = c->perform(req);
  ASSERT_FALSE(r.ok());
  const ErrorDetail d = r.error().details();
  EXPECT_EQ(d.transport, TransportCause::kConnectRefused) << r.error().to_string();
  EXPECT_EQ(d.endpoint, "http://127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(d.operation, "GET");
  EXPECT_THAT(r.error().to_string(), HasSubstr("connection refused"));
}

TEST(TransportCause, DnsFailure) {
  auto c = client();
  http::Request req;
  req.url = "http://omnio-no-such-host.invalid/";  // .invalid never resolves (RFC 2606)
  auto r = c->perform(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().details().transport, TransportCause::kDns) << r.error().to_string();
}

TEST(TransportCause, ConnectTimeoutIsToldApartFromTheOthers) {
  // A listener that never accepts, its accept queue filled: the kernel drops further SYNs, so a
  // new connect hangs until the connect timeout.
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(lfd, 0), 0);
  socklen_t len = sizeof a;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    (void)::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fillers.push_back(c);
  }
  std::this_thread::sleep_for(100ms);
  http::HttpConfig cfg;
  cfg.connect_timeout = 300ms;
  auto c = client(cfg);
  http::Request req;
  req.url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/";
  auto r = c->perform(req);
  for (int f : fillers) ::close(f);
  ::close(lfd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kDeadlineExceeded) << r.error().to_string();
  EXPECT_EQ(r.error().details().transport, TransportCause::kConnectTimeout)
      << r.error().to_string();
  EXPECT_THAT(r.error().to_string(), HasSubstr("connect timeout"));
}

TEST(TransportCause, StallAndWholeRequestTimeoutsAreTold) {
  ScriptedHttpServer srv([](const ScriptedRequest&) {
    ScriptedReply rep{200, {}, "late"};
    rep.delay = 3s;
    return rep;
  });
  {
    http::HttpConfig cfg;
    cfg.stall_timeout = 300ms;
    auto c = client(cfg);
    http::Request req;
    req.url = srv.url();
    auto r = c->perform(req);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kDeadlineExceeded);
    EXPECT_EQ(r.error().details().transport, TransportCause::kStallTimeout)
        << r.error().to_string();
    EXPECT_THAT(r.error().to_string(), HasSubstr("stall timeout"));
  }
  {
    auto c = client();
    http::Request req;
    req.url = srv.url();
    req.timeout = 300ms;
    auto r = c->perform(req);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().details().transport, TransportCause::kRequestTimeout)
        << r.error().to_string();
    EXPECT_THAT(r.error().to_string(), HasSubstr("request timeout"));
  }
}

http::RetryingCall get_call(const std::string& url) {
  http::RetryingCall call;
  call.make = [url](int) -> Result<http::Request> {
    http::Request r;
    r.url = url;
    return r;
  };
  call.what = "GET s3://bucket/key bytes=0-9";
  return call;
}

RetryPolicy fast(int attempts) {
  RetryPolicy p;
  p.max_attempts = attempts;
  p.base_delay = 1ms;
  p.max_delay = 5ms;
  return p;
}

TEST(RetriesExhausted, OneLineWithAttemptsElapsedAndLastCause) {
  ScriptedHttpServer srv([](const ScriptedRequest&) { return ScriptedReply{503, {}, ""}; });
  auto r = http::perform_with_retry(client(), fast(3), nullptr, get_call(srv.url()));
  ASSERT_FALSE(r.ok());
  const std::string text = r.error().to_string();
  EXPECT_THAT(text,
              HasSubstr("GET s3://bucket/key bytes=0-9: retries exhausted after 3 attempts over "));
  EXPECT_THAT(text, HasSubstr("HTTP 503"));  // the last cause is kept
  EXPECT_EQ(text.find('\n'), std::string::npos);
  const ErrorDetail d = r.error().details();
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(d.max_attempts, 3);
  EXPECT_GT(d.elapsed_seconds, 0);
  EXPECT_EQ(d.operation, "GET");
  EXPECT_EQ(d.uri, "s3://bucket/key");
  EXPECT_EQ(r.error().chain_http_status(), 503);
}

TEST(RetriesExhausted, SingleAttemptStillCarriesAttemptCount) {
  ScriptedHttpServer srv([](const ScriptedRequest&) { return ScriptedReply{404, {}, ""}; });
  auto call = get_call(srv.url());
  call.check = [](Result<http::Response> r) -> Result<http::Response> {
    if (!r.ok() || r->status == 200) return r;
    return Error(ErrorCode::kNotFound, "not found").with_http_status(static_cast<int>(r->status));
  };
  auto r = http::perform_with_retry(client(), fast(3), nullptr, std::move(call));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().details().attempts, 1);
  EXPECT_EQ(r.error().details().max_attempts, 3);
  EXPECT_THAT(r.error().to_string(), Not(HasSubstr("retries exhausted")));
}

// 503 answers classified as throttling (what the backends do for SlowDown / ServerBusy).
Result<http::Response> throttle_check(Result<http::Response> r) {
  if (!r.ok() || r->status == 200) return r;
  ErrorDetail d;
  d.service_code = "SlowDown";
  d.throttled = true;
  Error e(ErrorCode::kResourceExhausted, "throttled by the server (SlowDown)");
  e.with_http_status(static_cast<int>(r->status)).with_detail(d);
  return e;
}

TEST(Throttling, RetriesCostLessOfTheBudgetThanFailures) {
  for (bool throttled : {true, false}) {
    std::atomic<int> n{0};
    ScriptedHttpServer srv([&](const ScriptedRequest&) {
      return ++n <= 2 ? ScriptedReply{503, {}, ""} : ScriptedReply{200, {}, "ok"};
    });
    auto budget = std::make_shared<http::RetryBudget>(100);
    auto call = get_call(srv.url());
    if (throttled) call.check = throttle_check;
    auto r = http::perform_with_retry(client(), fast(3), budget, std::move(call));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    const int cost = throttled ? kRetryThrottleCost : kRetryCost;
    EXPECT_EQ(budget->available(), 100 - 2 * cost + kRetrySuccessRefund) << throttled;
  }
}

TEST(Throttling, IsThrottlingReadsTheChain) {
  Error slow(ErrorCode::kResourceExhausted, "SlowDown");
  slow.with_http_status(503);
  EXPECT_TRUE(http::is_throttling(slow));
  EXPECT_TRUE(http::is_throttling(slow.wrap("get s3://b/k")));
  Error too_many(ErrorCode::kResourceExhausted, "429");
  too_many.with_http_status(429);
  EXPECT_TRUE(http::is_throttling(too_many));
  Error unavailable(ErrorCode::kUnavailable, "503 ServiceUnavailable");
  unavailable.with_http_status(503);
  EXPECT_FALSE(http::is_throttling(unavailable));
  EXPECT_FALSE(http::is_throttling(Error(ErrorCode::kNotFound, "404").with_http_status(404)));
}

TEST(RetryBudget, OnePerEndpointSharedByItsUsers) {
  auto a1 = http::RetryBudget::for_endpoint("http://a:1");
  auto a2 = http::RetryBudget::for_endpoint("http://a:1");
  auto b = http::RetryBudget::for_endpoint("http://b:1");
  EXPECT_EQ(a1.get(), a2.get());
  EXPECT_NE(a1.get(), b.get());
  EXPECT_EQ(a1->available(), kRetryBudgetTokens);
  ASSERT_TRUE(a1->try_acquire(kRetryCost));
  EXPECT_EQ(a2->available(), kRetryBudgetTokens - kRetryCost);
}

TEST(RetryBudget, StoresOfOneEndpointShareIt) {
  // Two s3:// stores for the same endpoint draw on one budget: a failing endpoint is not
  // retried twice as hard because a program made two stores.
  Config c = dead_s3(dead_port());
  auto s1 = store_for_uri("s3://b", c);
  auto s2 = store_for_uri("s3://b", c);
  ASSERT_TRUE(s1.ok() && s2.ok());
  auto budget = http::RetryBudget::for_endpoint(c.s3.endpoint);
  const int before = budget->available();
  c.s3.retry = fast(2);
  auto s3 = store_for_uri("s3://b", c);
  ASSERT_TRUE(s3.ok());
  (void)(*s3)->stat("s3://b/k");  // one retry of a refused connection
  EXPECT_EQ(budget->available(), before - kRetryCost);
}

TEST(DeadEndpoint, S3FailsFastWithOneClearLine) {
  const Config c = dead_s3(dead_port());
  auto store = store_for_uri("s3://bucket", c);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  const auto t0 = Clock::now();
  auto r = (*store)->get("s3://bucket/key");
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_FALSE(r.ok());
  const std::string text = r.error().to_string();
  EXPECT_LT(secs, 3.0) << text;  // default policy: 3 attempts, backoff <= 0.1 + 0.2 s
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_THAT(text, HasSubstr("connection refused"));
  EXPECT_THAT(text, HasSubstr(c.s3.endpoint));
  EXPECT_THAT(text, HasSubstr("retries exhausted after 3 attempts"));
  const ErrorDetail d = r.error().details();
  EXPECT_EQ(d.transport, TransportCause::kConnectRefused);
  EXPECT_EQ(d.endpoint, c.s3.endpoint);
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(d.uri, "s3://bucket/key");
}

TEST(RampedStart, AThousandSimultaneousFirstRequestsAllSucceed) {
  // The scripted server's accept backlog is 64: without a bound on connections being set up,
  // 1,000 simultaneous SYNs overflow it and the overflow waits for SYN retransmits.
  ScriptedHttpServer srv([](const ScriptedRequest& r) { return ScriptedReply{200, {}, r.target}; });
  http::HttpConfig cfg;
  cfg.event_loops = 2;
  cfg.connect_timeout = 5000ms;
  auto c = client(cfg);
  constexpr int kN = 1000;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0;
  std::string first_error;
  for (int i = 0; i < kN; ++i) {
    http::Request req;
    req.url = srv.url("/o" + std::to_string(i));
    c->submit(req, [&, i](Result<http::Response> r) {
      std::lock_guard g(mu);
      if (r.ok() && r->status == 200 && r->body == "/o" + std::to_string(i)) {
        ++ok;
      } else if (first_error.empty()) {
        first_error = r.ok() ? "status " + std::to_string(r->status) : r.error().to_string();
      }
      ++done;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 120s, [&] { return done == kN; }));
  EXPECT_EQ(ok, kN) << first_error;
}

}  // namespace
}  // namespace omnio
