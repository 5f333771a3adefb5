// ThreadPool: a fixed set of std::jthreads draining a task queue. Used for blocking file I/O and
// CPU work; network I/O uses event loops instead (later issue).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace omnio {

/// Fixed-size pool. Tasks must not throw. The destructor runs queued tasks, then joins.
class ThreadPool {
 public:
  ThreadPool(std::size_t threads, std::string name);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Queues a task. Never blocks.
  void submit(std::function<void()> task);
  std::size_t size() const { return workers_.size(); }

  /// The process-wide pool for blocking local I/O (kDefaultIoThreads, or OMNIO_IO_THREADS).
  static ThreadPool& io();

 private:
  void run(std::stop_token st);

  std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::jthread> workers_;
  std::string name_;
};

}  // namespace omnio
