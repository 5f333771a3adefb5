#include "http/retrying.h"

#include <fmt/format.h>
#include <pthread.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "omnio/constants.h"
#include "omnio/log.h"

namespace omnio::http {
namespace {

using Clock = std::chrono::steady_clock;

// How often the timer looks for cancelled waits, so a cancel during backoff ends the call promptly.
constexpr std::chrono::milliseconds kTimerPoll{50};

// One thread runs every backoff of the process: waiting costs no thread.
class Timer {
 public:
  static Timer& instance() {
    static Timer* t = new Timer;  // never destroyed: completions may race static destruction
    return *t;
  }

  // Runs fn(false) at `when`, or fn(true) as soon as `cancel` fires.
  void schedule(Clock::time_point when, CancellationToken cancel, std::function<void(bool)> fn) {
    {
      std::lock_guard g(mu_);
      entries_.emplace(when, Entry{std::move(cancel), std::move(fn)});
    }
    cv_.notify_one();
  }

 private:
  struct Entry {
    CancellationToken cancel;
    std::function<void(bool)> fn;
  };

  Timer() {
    thread_ = std::thread([this] { run(); });
    pthread_setname_np(thread_.native_handle(), "omnio-retry");
    thread_.detach();
  }

  void run() {
    std::unique_lock lock(mu_);
    while (true) {
      std::vector<std::pair<bool, std::function<void(bool)>>> due;
      const auto now = Clock::now();
      for (auto it = entries_.begin(); it != entries_.end();) {
        bool cancelled = it->second.cancel.is_cancelled();
        if (cancelled || it->first <= now) {
          due.emplace_back(cancelled, std::move(it->second.fn));
          it = entries_.erase(it);
        } else {
          ++it;
        }
      }
      if (!due.empty()) {
        lock.unlock();
        for (auto& [c, fn] : due) fn(c);
        lock.lock();
        continue;
      }
      auto wake = now + kTimerPoll;
      if (!entries_.empty()) wake = std::min(wake, entries_.begin()->first);
      cv_.wait_until(lock, wake);
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<Clock::time_point, Entry> entries_;
  std::thread thread_;
};

double random01() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

Result<Response> default_check(Result<Response> r) {
  if (!r.ok()) return r;
  if (r->status >= 200 && r->status < 300) return r;
  return Error(ErrorCode::kUnavailable, fmt::format("HTTP {}", r->status))
      .with_http_status(static_cast<int>(r->status));
}

struct CallState {
  // Raw: the caller keeps the client alive until `done` ran; a shared_ptr here could make a loop
  // thread drop the last reference and join itself.
  HttpClient* client = nullptr;
  RetryPolicy policy;
  std::shared_ptr<RetryBudget> budget;
  RetryingCall call;
  Completion done;
  Clock::time_point started = Clock::now();
  int attempt = 0;
  bool retried = false;
};

void attempt(std::shared_ptr<CallState> st);

// Operation and URI of a RetryingCall's `what` ("GET s3://bucket/key bytes=0-99").
void describe(const std::string& what, ErrorDetail& d) {
  std::string_view w(what);
  d.operation = std::string(w.substr(0, w.find(' ')));
  for (std::size_t pos = 0; pos < w.size();) {
    std::size_t end = w.find(' ', pos);
    if (end == std::string_view::npos) end = w.size();
    std::string_view tok = w.substr(pos, end - pos);
    if (tok.find("://") != std::string_view::npos) {
      d.uri = std::string(tok);
      break;
    }
    pos = end + 1;
  }
}

void finish_failed(const std::shared_ptr<CallState>& st, Error last, bool exhausted) {
  const double secs = std::chrono::duration<double>(Clock::now() - st->started).count();
  ErrorDetail d;
  describe(st->call.what, d);
  d.attempts = st->attempt;
  d.max_attempts = st->policy.max_attempts;
  d.elapsed_seconds = secs;
  if (st->attempt > 1) {
    std::string msg = exhausted
                          ? fmt::format("{}: retries exhausted after {} attempts over {:.2f} s",
                                        st->call.what, st->attempt, secs)
                          : fmt::format("{}: failed on attempt {} of {} after {:.2f} s",
                                        st->call.what, st->attempt, st->policy.max_attempts, secs);
    Error e(last.code(), std::move(msg));
    e.with_http_status(last.http_status()).with_cause(std::move(last));
    e.with_detail(std::move(d));
    st->done(std::move(e));
    return;
  }
  last.with_detail(std::move(d));
  st->done(std::move(last));
}

void on_result(std::shared_ptr<CallState> st, Result<Response> raw) {
  double retry_after = -1;
  if (raw.ok()) retry_after = parse_retry_after(raw->header("retry-after"));
  // A body cut short by the connection is a transport failure: worth another attempt.
  const bool truncated = !raw.ok() && raw.error().code() == ErrorCode::kDataLoss;
  Result<Response> r =
      st->call.check ? st->call.check(std::move(raw)) : default_check(std::move(raw));
  if (r.ok()) {
    if (st->budget) st->budget->refund(kRetrySuccessRefund);
    st->done(std::move(r));
    return;
  }
  Error err = std::move(r).error();
  const bool retryable = st->call.idempotent && (truncated || RetryPolicy::is_retryable(err));
  if (!retryable || st->attempt >= st->policy.max_attempts || st->call.cancel.is_cancelled()) {
    finish_failed(st, std::move(err), retryable && st->attempt >= st->policy.max_attempts);
    return;
  }
  const bool throttled = is_throttling(err);
  const int cost = throttled                                    ? kRetryThrottleCost
                   : err.code() == ErrorCode::kDeadlineExceeded ? kRetryTimeoutCost
                                                                : kRetryCost;
  if (st->budget && !st->budget->try_acquire(cost)) {
    Error e(err.code(), fmt::format("{}: not retried: the endpoint's retry budget is exhausted "
                                    "(too many recent failures)",
                                    st->call.what));
    e.with_http_status(err.http_status()).with_cause(std::move(err));
    finish_failed(st, std::move(e), false);
    return;
  }
  RetryPolicy policy = st->policy;
  if (throttled) {
    // The server asked us to slow down: start from a longer backoff (still within the cap).
    policy.base_delay = std::min(policy.max_delay, policy.base_delay * kThrottleBackoffFactor);
  }
  auto delay = policy.backoff(st->attempt + 1, random01());
  if (retry_after >= 0) {
    // Honour the server's hint, within the policy's cap.
    // Capped in double first: a huge hint must not overflow the conversion to milliseconds.
    const double hint_ms =
        std::min(retry_after * 1000, static_cast<double>(st->policy.max_delay.count()));
    delay = std::max(delay, std::chrono::milliseconds(static_cast<long long>(hint_ms)));
  }
  log::debug("{}: attempt {}/{} failed ({}); retrying in {} ms", st->call.what, st->attempt,
             st->policy.max_attempts, err.to_string(), delay.count());
  Timer::instance().schedule(Clock::now() + delay, st->call.cancel, [st, err](bool cancelled) {
    if (cancelled) {
      Error c(ErrorCode::kCancelled,
              fmt::format("{}: cancelled while waiting to retry", st->call.what));
      c.with_cause(err);
      st->done(std::move(c));
      return;
    }
    attempt(st);
  });
}

void attempt(std::shared_ptr<CallState> st) {
  ++st->attempt;
  Result<Request> req = st->call.make(st->attempt);
  if (!req.ok()) {
    st->done(std::move(req).error());
    return;
  }
  req->cancel = st->call.cancel;
  if (st->attempt > 1)
    log::debug("{}: attempt {}/{}", st->call.what, st->attempt, st->policy.max_attempts);
  HttpClient* client = st->client;
  client->submit(std::move(req).value(), [st](Result<Response> r) { on_result(st, std::move(r)); });
}

}  // namespace

bool is_throttling(const Error& e) {
  if (e.details().throttled) return true;
  const int status = e.chain_http_status();
  return status == 429 || (status == 503 && e.code() == ErrorCode::kResourceExhausted);
}

std::shared_ptr<RetryBudget> RetryBudget::for_endpoint(const std::string& endpoint) {
  static std::mutex mu;
  static auto* budgets = new std::map<std::string, std::weak_ptr<RetryBudget>>;  // never freed
  std::lock_guard g(mu);
  auto& slot = (*budgets)[endpoint];
  if (auto b = slot.lock()) return b;
  auto b = std::make_shared<RetryBudget>(kRetryBudgetTokens);
  slot = b;
  // Forget endpoints no store uses any more.
  for (auto it = budgets->begin(); it != budgets->end();) {
    it = it->second.expired() ? budgets->erase(it) : std::next(it);
  }
  return b;
}

RetryBudget::RetryBudget(int tokens) : capacity_(tokens), tokens_(tokens) {}

bool RetryBudget::try_acquire(int cost) {
  int cur = tokens_.load(std::memory_order_relaxed);
  while (cur >= cost) {
    if (tokens_.compare_exchange_weak(cur, cur - cost, std::memory_order_relaxed)) return true;
  }
  return false;
}

void RetryBudget::refund(int n) {
  int cur = tokens_.load(std::memory_order_relaxed);
  while (cur < capacity_) {
    if (tokens_.compare_exchange_weak(cur, std::min(capacity_, cur + n),
                                      std::memory_order_relaxed)) {
      return;
    }
  }
}

void submit_with_retry(const std::shared_ptr<HttpClient>& client, const RetryPolicy& policy,
                       const std::shared_ptr<RetryBudget>& budget, RetryingCall call,
                       Completion done) {
  auto st = std::make_shared<CallState>();
  st->client = client.get();
  st->policy = policy;
  st->budget = budget;
  st->call = std::move(call);
  st->done = std::move(done);
  attempt(std::move(st));
}

Result<Response> perform_with_retry(const std::shared_ptr<HttpClient>& client,
                                    const RetryPolicy& policy,
                                    const std::shared_ptr<RetryBudget>& budget, RetryingCall call) {
  return wait_for([&](Completion done) {
    submit_with_retry(client, policy, budget, std::move(call), std::move(done));
  });
}

double parse_retry_after(std::string_view v) {
  if (v.empty()) return -1;
  double secs = -1;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(secs) || secs < 0) return -1;
  return secs;
}

}  // namespace omnio::http
