// PartPipeline: the parts of one upload (S3 multipart, Azure staged blocks) in flight under a
// permit count. The permit is taken BEFORE a part is dispatched, so memory is bounded by
// max_in_flight part buffers; the first failure wins, cancels the parts still in flight and stops
// new ones, so an upload is never committed after an error.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>

#include "omnio/cancel.h"
#include "omnio/result.h"

namespace omnio::http {

class PartPipeline {
 public:
  /// `cancel` is the upload's own token (a child of the caller's); `uri` names it in errors.
  PartPipeline(std::size_t max_in_flight, CancellationToken cancel, std::string uri)
      : max_(max_in_flight), cancel_(std::move(cancel)), uri_(std::move(uri)) {}

  /// Blocks until a permit is free. Returns the upload's first error (or kCancelled) instead,
  /// without taking a permit, once anything failed or the upload was cancelled.
  Status acquire();
  /// Ends a part that holds a permit: a failure is recorded (the first one wins) and cancels the
  /// parts still in flight.
  void finish(Status st);
  /// Waits until no part is in flight; the first error, if any.
  Status wait_all();
  /// Cancels the parts in flight (abort) and waits for them.
  void cancel_and_wait();
  const CancellationToken& cancel() const { return cancel_; }

 private:
  const std::size_t max_;
  CancellationToken cancel_;
  std::string uri_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t inflight_ = 0;
  bool failed_ = false;
  Error error_;
};

}  // namespace omnio::http
