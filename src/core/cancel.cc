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

bool CancellationToken::sleep_for(std::chrono::nanoseconds d) const {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_for(lock, source_.get_token(), d, [] { return false; });
  return !is_cancelled();
}

}  // namespace omnio
