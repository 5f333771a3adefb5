#include "core/part_sink.h"

#include <algorithm>
#include <cstring>

namespace omnio {
Status PartSink::append(std::span<const std::byte> data) {
  while (!data.empty()) {
    // A full part goes out only once more data follows: a stream of exactly one part is then a
    // single request at commit (as documented: up to the part size is one PUT), not a one-part
    // multipart upload.
    if (buf_ && fill_ == buf_->size()) OMNIO_TRY(flush());
    if (!buf_) {
      OMNIO_ASSIGN_OR_RETURN(
          buf_,
          buffers_->acquire(ops_.part_size(static_cast<std::size_t>(parts_ + 1)), ops_.cancel));
      fill_ = 0;
    }
    const std::size_t k = std::min(data.size(), buf_->size() - fill_);
    std::memcpy(buf_->data() + fill_, data.data(), k);
    fill_ += k;
    total_ += k;
    data = data.subspan(k);
  }
  return ok_status();
}

Status PartSink::commit() {
  if (!started_) {
    // Everything fits in one part: a single request.
    Bytes body = buf_ ? Bytes::from_shared(buf_, buf_->data(), fill_) : Bytes();
    buf_.reset();
    return ops_.single_put(body);
  }
  if (fill_ > 0) OMNIO_TRY(flush());
  return ops_.complete(total_, parts_);
}

Status PartSink::abort() {
  buf_.reset();
  return ops_.abort();
}

Status PartSink::flush() {
  if (!started_) {
    OMNIO_TRY(ops_.start());
    started_ = true;
  }
  auto body = std::span<const std::byte>(buf_->data(), fill_);
  std::shared_ptr<const void> owner = std::move(buf_);
  fill_ = 0;
  return ops_.send_part(++parts_, body, std::move(owner));
}

}  // namespace omnio
