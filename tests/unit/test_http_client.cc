// HttpClient against a scripted loopback server: body placement, length checks, error typing,
// keep-alive reuse, cancellation of a stalled request.
#include <gtest/gtest.h>

#include <thread>

#include "http/http_client.h"
#include "support/scripted_http_server.h"

namespace omnio::http {
namespace {

using namespace std::chrono_literals;
using omnio::testing::ScriptedHttpServer;
using omnio::testing::ScriptedReply;
using omnio::testing::ScriptedRequest;

std::shared_ptr<HttpClient> client(HttpConfig cfg = {}) {
  auto c = HttpClient::create(cfg);
  EXPECT_TRUE(c.ok());
  return *c;
}

TEST(HttpClient, GetIntoDestinationAndHeaders) {
  ScriptedHttpServer srv([](const ScriptedRequest& r) {
    ScriptedReply rep;
    rep.body = "0123456789";
    rep.headers = {{"ETag", "\"abc\""},
                   {"X-Echo", r.headers.count("x-test") ? r.headers.at("x-test") : ""}};
    return rep;
  });
  auto c = client();
  std::vector<std::byte> dest(10);
  Request req;
  req.url = srv.url("/obj");
  req.headers = {{"X-Test", "hello"}};
  req.dest = dest;
  req.has_dest = true;
  auto r = c->perform(req);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("etag"), "\"abc\"");
  EXPECT_EQ(r->header("X-ECHO"), "hello");
  EXPECT_EQ(std::string(reinterpret_cast<char*>(dest.data()), 10), "0123456789");
  EXPECT_TRUE(r->body.empty());
}

TEST(HttpClient, KeepAliveReusesOneConnection) {
  ScriptedHttpServer srv([](const ScriptedRequest&) { return ScriptedReply{200, {}, "x"}; });
  auto c = client();
  for (int i = 0; i < 20; ++i) {
    Request req;
    req.url = srv.url("/k");
    auto r = c->perform(req);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->body, "x");
  }
  EXPECT_EQ(srv.requests(), 20);
  EXPECT_EQ(srv.connections(), 1);
}

TEST(HttpClient, LongerBodyThanDestinationIsDataLoss) {
  ScriptedHttpServer srv([](const ScriptedRequest&) {
    return ScriptedReply{200, {}, "0123456789AB"};
  });
  auto c = client();
  std::vector<std::byte> dest(10);
  Request req;
  req.url = srv.url();
  req.dest = dest;
  req.has_dest = true;
  auto r = c->perform(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss) << r.error().to_string();
}

TEST(HttpClient, ShorterBodyThanDestinationIsDataLoss) {
  ScriptedHttpServer srv([](const ScriptedRequest&) { return ScriptedReply{200, {}, "01234"}; });
  auto c = client();
  std::vector<std::byte> dest(10);
  Request req;
  req.url = srv.url();
  req.dest = dest;
  req.has_dest = true;
  auto r = c->perform(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss);
}

TEST(HttpClient, TruncatedBodyIsDataLoss) {
  ScriptedHttpServer srv([](const ScriptedRequest&) {
    ScriptedReply rep{200, {}, std::string(100000, 'z')};
    rep.cut_after = 5000;
    return rep;
  });
  auto c = client();
  Request req;
  req.url = srv.url();
  auto r = c->perform(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss) << r.error().to_string();
  EXPECT_NE(r.error().to_string().find(srv.url()), std::string::npos);
}

TEST(HttpClient, ErrorStatusKeepsBodyOutOfDestination) {
  ScriptedHttpServer srv([](const ScriptedRequest&) {
    return ScriptedReply{404, {}, "<Error><Code>NoSuchKey</Code></Error>"};
  });
  auto c = client();
  std::vector<std::byte> dest(4, std::byte{0x55});
  Request req;
  req.url = srv.url();
  req.dest = dest;
  req.has_dest = true;
  auto r = c->perform(req);
  ASSERT_TRUE(r.ok());  // HTTP errors are the caller's to map
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("NoSuchKey"), std::string::npos);
  EXPECT_EQ(dest[0], std::byte{0x55});
}

TEST(HttpClient, PutSendsBody) {
  std::string got;
  ScriptedHttpServer srv([&](const ScriptedRequest& r) {
    got = r.method + " " + r.body;
    return ScriptedReply{200, {}, ""};
  });
  auto c = client();
  std::string payload(300000, 'p');
  Request req;
  req.method = "PUT";
  req.url = srv.url("/put");
  req.body = std::as_bytes(std::span(payload));
  auto r = c->perform(req);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(got, "PUT " + payload);
}

TEST(HttpClient, ConnectionRefusedIsUnavailable) {
  int port;
  {
    ScriptedHttpServer srv([](const ScriptedRequest&) { return ScriptedReply{}; });
    port = std::stoi(srv.url().substr(17));
  }
  auto c = client();
  Request req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  auto r = c->perform(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable) << r.error().to_string();
  EXPECT_NE(r.error().to_string().find("connection refused"), std::string::npos);
}

TEST(HttpClient, CancelInterruptsStalledRequestPromptly) {
  ScriptedHttpServer srv([](const ScriptedRequest&) {
    ScriptedReply rep{200, {}, "late"};
    rep.delay = 5s;
    return rep;
  });
  auto c = client();
  CancellationToken tok;
  Request req;
  req.url = srv.url();
  req.cancel = tok;
  std::jthread t([&] {
    std::this_thread::sleep_for(100ms);
    tok.cancel();
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r = c->perform(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

TEST(HttpClient, StallTimeoutIsDeadlineExceeded) {
  ScriptedHttpServer srv([](const ScriptedRequest&) {
    ScriptedReply rep{200, {}, "late"};
    rep.delay = 5s;
    return rep;
  });
  auto c = client();
  Request req;
  req.url = srv.url();
  req.timeout = 200ms;
  auto r = c->perform(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kDeadlineExceeded) << r.error().to_string();
}

TEST(HttpClient, ManyConcurrentRequestsAcrossLoops) {
  ScriptedHttpServer srv([](const ScriptedRequest& r) { return ScriptedReply{200, {}, r.target}; });
  HttpConfig cfg;
  cfg.event_loops = 2;
  auto c = client(cfg);
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0;
  for (int i = 0; i < 64; ++i) {
    Request req;
    req.url = srv.url("/" + std::to_string(i));
    c->submit(req, [&, i](Result<Response> r) {
      std::lock_guard g(mu);
      if (r.ok() && r->body == "/" + std::to_string(i)) ++ok;
      ++done;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return done == 64; }));
  EXPECT_EQ(ok, 64);
}

}  // namespace
}  // namespace omnio::http
