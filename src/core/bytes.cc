#include "omnio/bytes.h"

#include <algorithm>
#include <cstdlib>

namespace omnio {

Bytes Bytes::from_vector(std::vector<std::byte>&& v) {
  auto owner = std::make_shared<std::vector<std::byte>>(std::move(v));
  Bytes b;
  b.data_ = owner->data();
  b.size_ = owner->size();
  b.owner_ = std::move(owner);
  return b;
}

Bytes Bytes::from_aligned(AlignedBuffer&& buf) {
  const std::size_t n = buf.size();
  auto owner = std::make_shared<AlignedBuffer>(std::move(buf));
  Bytes b;
  b.data_ = owner->data();
  b.size_ = n;
  b.owner_ = std::move(owner);
  return b;
}

Bytes Bytes::copy_of(std::span<const std::byte> data) {
  return from_vector(std::vector<std::byte>(data.begin(), data.end()));
}

Bytes Bytes::copy_of(std::string_view s) {
  return copy_of(std::as_bytes(std::span<const char>(s.data(), s.size())));
}

Bytes Bytes::from_shared(std::shared_ptr<const void> owner, const std::byte* data,
                         std::size_t size) {
  Bytes b;
  b.owner_ = std::move(owner);
  b.data_ = data;
  b.size_ = size;
  return b;
}

Bytes Bytes::slice(std::size_t offset, std::size_t length) const {
  Bytes b;
  offset = std::min(offset, size_);
  b.owner_ = owner_;
  b.data_ = data_ + offset;
  b.size_ = std::min(length, size_ - offset);
  return b;
}

}  // namespace omnio
