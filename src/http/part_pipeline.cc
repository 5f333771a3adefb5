#include "http/part_pipeline.h"

#include <fmt/format.h>

namespace omnio::http {

Status PartPipeline::acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return inflight_ < max_ || failed_; });
  if (failed_) return error_;
  if (cancel_.is_cancelled())
    return Error(ErrorCode::kCancelled, fmt::format("upload of {} cancelled", uri_));
  ++inflight_;
  return ok_status();
}

void PartPipeline::finish(Status st) {
  std::lock_guard g(mu_);
  if (!st.ok() && !failed_) {
    failed_ = true;
    error_ = std::move(st).error();
    cancel_.cancel();  // stop the other parts: this upload will not be committed
  }
  --inflight_;
  cv_.notify_all();
}

Status PartPipeline::wait_all() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return inflight_ == 0; });
  if (failed_) return error_;
  return ok_status();
}

void PartPipeline::cancel_and_wait() {
  cancel_.cancel();
  (void)wait_all();
}

}  // namespace omnio::http
