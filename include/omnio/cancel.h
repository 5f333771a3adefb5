// CancellationToken: one shared, idempotent "stop" signal (over std::stop_source) that every long
// operation checks and that can wake threads waiting on it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <stop_token>
#include <vector>

namespace omnio {

/// Sleeps up to `d`, or until `st` is stopped (a std::jthread's token, a CancellationToken's);
/// false if it was stopped.
bool sleep_unless_stopped(const std::stop_token& st, std::chrono::nanoseconds d);

/// A shared cancellation flag. Copies share state; cancel() is idempotent and thread-safe.
class CancellationToken {
 public:
  CancellationToken() = default;

  /// Requests cancellation; every copy observes it, and waiters wake.
  void cancel() { source_.request_stop(); }
  bool is_cancelled() const { return source_.stop_requested(); }
  /// The std::stop_token for std::jthread / std::condition_variable_any waits.
  std::stop_token stop_token() const { return source_.get_token(); }

  /// A new token that is cancelled when this one is (and can also be cancelled on its own).
  /// The link lives as long as the child token's state.
  CancellationToken child() const;

  /// Sleeps up to `d`; returns false early if cancelled.
  bool sleep_for(std::chrono::nanoseconds d) const;

  /// Waits on `cv` until `pred()` holds, the token is cancelled, or `deadline` passes. Returns
  /// pred().
  template <typename Pred>
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable_any& cv,
                  std::chrono::steady_clock::time_point deadline, Pred pred) const {
    return cv.wait_until(lock, source_.get_token(), deadline, std::move(pred));
  }

 private:
  struct Link;
  std::stop_source source_;
  std::shared_ptr<Link> link_;  // keeps the parent->child callback alive for child tokens
};

/// Wakes every waiter of some plain condition variables, all waiting under `mu`, when `token` is
/// cancelled, for as long as it lives. For hot waits that cannot use condition_variable_any
/// (which notifies under an internal mutex, so the woken thread blocks on it at once): their
/// predicates check `token.is_cancelled()`. The wake-up takes `mu` first, so a waiter is either
/// inside wait() or sees the cancel. Runs at once if the token is already cancelled; the
/// cancelling thread must not hold `mu`.
class WakeOnCancel {
 public:
  WakeOnCancel(const CancellationToken& token, std::mutex& mu,
               std::initializer_list<std::condition_variable*> cvs)
      : mu_(mu),
        cvs_(cvs),
        callback_(token.stop_token(), std::function<void()>([this] { wake(); })) {}
  WakeOnCancel(const WakeOnCancel&) = delete;
  WakeOnCancel& operator=(const WakeOnCancel&) = delete;

 private:
  void wake() {
    { std::lock_guard g(mu_); }
    for (std::condition_variable* cv : cvs_) cv->notify_all();
  }
  std::mutex& mu_;
  std::vector<std::condition_variable*> cvs_;
  std::stop_callback<std::function<void()>> callback_;  // last: may run while constructed
};

}  // namespace omnio
