#include "omnio/cancel.h"

#include <optional>
#include <thread>

namespace omnio {

struct CancellationToken::Link {
  struct Forward {
    std::stop_source target;
    void operator()() const noexcept { const_cast<std::stop_source&>(target).request_stop(); }
  };
  std::optional<std::stop_callback<Forward>> callback;
};

CancellationToken CancellationToken::child() const {
  CancellationToken c;
  c.link_ = std::make_shared<Link>();
  // Runs immediately if this token is already cancelled.
  c.link_->callback.emplace(source_.get_token(), Link::Forward{c.source_});
  return c;
}

bool sleep_unless_stopped(const std::stop_token& st, std::chrono::nanoseconds d) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_for(lock, st, d, [] { return false; });
  return !st.stop_requested();
}

bool CancellationToken::sleep_for(std::chrono::nanoseconds d) const {
  return sleep_unless_stopped(source_.get_token(), d);
}

}  // namespace omnio
