#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "omnio/cancel.h"
#include "omnio/constants.h"
#include "omnio/env.h"
#include "omnio/log.h"
#include "omnio/thread_pool.h"

namespace omnio {
namespace {

using namespace std::chrono_literals;

TEST(CancellationToken, SharedAndIdempotent) {
  CancellationToken a;
  CancellationToken b = a;
  EXPECT_FALSE(b.is_cancelled());
  a.cancel();
  a.cancel();
  EXPECT_TRUE(b.is_cancelled());
}

TEST(CancellationToken, ChildFollowsParentNotTheReverse) {
  CancellationToken parent;
  CancellationToken child = parent.child();
  CancellationToken other = parent.child();
  child.cancel();
  EXPECT_FALSE(parent.is_cancelled());
  EXPECT_FALSE(other.is_cancelled());
  parent.cancel();
  EXPECT_TRUE(other.is_cancelled());
  CancellationToken late = parent.child();  // child of an already cancelled token
  EXPECT_TRUE(late.is_cancelled());
}

TEST(CancellationToken, WakesSleepers) {
  CancellationToken tok;
  auto t0 = std::chrono::steady_clock::now();
  std::jthread t([&] {
    std::this_thread::sleep_for(20ms);
    tok.cancel();
  });
  EXPECT_FALSE(tok.sleep_for(10s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(CancellationToken, WaitUntilWakesOnCancel) {
  CancellationToken tok;
  std::mutex mu;
  std::condition_variable_any cv;
  std::jthread t([&] {
    std::this_thread::sleep_for(20ms);
    tok.cancel();
  });
  std::unique_lock lock(mu);
  bool r = tok.wait_until(lock, cv, std::chrono::steady_clock::now() + 10s, [] { return false; });
  EXPECT_FALSE(r);
  EXPECT_TRUE(tok.is_cancelled());
}

// WakeOnCancel: a plain condition variable's waiter whose predicate checks the token wakes on a
// cancel from another thread (without it, this wait would only end at its 10 s deadline), and a
// token cancelled before the waker exists neither deadlocks nor throws.
TEST(WakeOnCancel, WakesAPlainConditionVariableWaiter) {
  CancellationToken tok;
  std::mutex mu;
  std::condition_variable a, b;
  const WakeOnCancel wake(tok, mu, {&a, &b});
  std::jthread t([&] {
    std::this_thread::sleep_for(20ms);
    tok.cancel();
  });
  std::unique_lock lock(mu);
  const auto t0 = std::chrono::steady_clock::now();
  b.wait_until(lock, t0 + 10s, [&] { return tok.is_cancelled(); });
  EXPECT_TRUE(tok.is_cancelled());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);

  CancellationToken done;
  done.cancel();
  lock.unlock();  // the waker runs at once and takes mu
  const WakeOnCancel already(done, mu, {&a});
}

TEST(ThreadPool, RunsEveryTaskAndJoins) {
  std::atomic<int> n{0};
  {
    ThreadPool pool(4, "test");
    for (int i = 0; i < 1000; ++i) pool.submit([&] { ++n; });
  }  // destructor drains the queue and joins
  EXPECT_EQ(n, 1000);
}

TEST(ThreadPool, IoPoolHasDefaultSize) { EXPECT_GE(ThreadPool::io().size(), 1u); }

TEST(Env, KnownVariablesAndTypos) {
  setenv("OMNIO_LOG_LEVLE", "debug", 1);
  setenv("OMNIO_TOTALLY_UNRELATED_THING", "1", 1);
  setenv("OMNIO_TEST_SOMETHING_OF_A_SCRIPT", "1", 1);
  auto unknown = env::unknown_omnio_variables();
  unsetenv("OMNIO_LOG_LEVLE");
  unsetenv("OMNIO_TOTALLY_UNRELATED_THING");
  unsetenv("OMNIO_TEST_SOMETHING_OF_A_SCRIPT");
  // Other OMNIO_* variables of the caller's environment may be listed too.
  auto has = [&](const std::string& s) {
    return std::find(unknown.begin(), unknown.end(), s) != unknown.end();
  };
  EXPECT_TRUE(has("OMNIO_LOG_LEVLE (did you mean OMNIO_LOG_LEVEL?)"));
  EXPECT_TRUE(has("OMNIO_TOTALLY_UNRELATED_THING"));
  EXPECT_FALSE(has("OMNIO_TEST_SOMETHING_OF_A_SCRIPT"));  // the project's scripts' variables
  setenv("OMNIO_IO_THREADS", "7", 1);
  EXPECT_EQ(env::get("OMNIO_IO_THREADS").value_or(""), "7");
  unsetenv("OMNIO_IO_THREADS");
  EXPECT_FALSE(env::get("OMNIO_IO_THREADS").has_value());
}

TEST(Log, LevelParsing) {
  log::Level l;
  EXPECT_TRUE(log::parse_level("debug", &l));
  EXPECT_EQ(l, log::Level::kDebug);
  EXPECT_FALSE(log::parse_level("loud", &l));
  log::set_level(log::Level::kError);
  EXPECT_FALSE(log::enabled(log::Level::kWarn));
  EXPECT_TRUE(log::enabled(log::Level::kError));
  log::set_level(log::Level::kWarn);
}

}  // namespace
}  // namespace omnio
