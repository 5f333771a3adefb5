#include "omnio/thread_pool.h"

#include <pthread.h>

#include <cstdlib>

#include "omnio/constants.h"
#include "omnio/env.h"

namespace omnio {

ThreadPool::ThreadPool(std::size_t threads, std::string name) : name_(std::move(name)) {
  if (threads == 0) threads = 1;
  workers_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    workers_.emplace_back([this](std::stop_token st) { run(st); });
    // Thread names show up in perf/top; Linux limits them to 15 characters.
    pthread_setname_np(workers_.back().native_handle(), name_.substr(0, 15).c_str());
  }
}

ThreadPool::~ThreadPool() {
  for (auto& w : workers_) w.request_stop();
  cv_.notify_all();
  workers_.clear();  // joins
}

void ThreadPool::submit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void ThreadPool::run(std::stop_token st) {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, st, [this] { return !queue_.empty(); });
      if (queue_.empty()) return;  // stop requested and nothing left to run
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

ThreadPool& ThreadPool::io() {
  static ThreadPool* pool = [] {
    std::size_t n = kDefaultIoThreads;
    if (auto v = env::get("OMNIO_IO_THREADS")) {
      char* end = nullptr;
      unsigned long parsed = std::strtoul(v->c_str(), &end, 10);
      if (end != v->c_str() && *end == '\0' && parsed > 0 && parsed <= 1024) n = parsed;
    }
    // Leaked on purpose: I/O may still be in flight from static destructors at exit.
    return new ThreadPool(n, "omnio-io");
  }();
  return *pool;
}

}  // namespace omnio
