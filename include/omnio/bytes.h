// omnio::Bytes: a shared, immutable, sliceable view of bytes whose owner is reference counted, so
// data moves from a store to a loader, the CLI or Python without copies.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "omnio/aligned_buffer.h"

namespace omnio {

/// Immutable bytes with shared ownership. Copying a Bytes copies a pointer, never the data.
class Bytes {
 public:
  Bytes() = default;
  /// Takes ownership of a vector's storage (no copy).
  static Bytes from_vector(std::vector<std::byte>&& v);
  /// Takes ownership of an aligned buffer, viewing its first size() bytes (no copy).
  static Bytes from_aligned(AlignedBuffer&& b);
  /// Copies `data`.
  static Bytes copy_of(std::span<const std::byte> data);
  static Bytes copy_of(std::string_view s);
  /// Views memory kept alive by `owner` (no copy).
  static Bytes from_shared(std::shared_ptr<const void> owner, const std::byte* data, std::size_t size);

  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const std::byte> span() const { return {data_, size_}; }
  std::string_view as_string_view() const {
    return {reinterpret_cast<const char*>(data_), size_};
  }
  std::string to_string() const { return std::string(as_string_view()); }
  const std::byte& operator[](std::size_t i) const { return data_[i]; }

  /// A view of [offset, offset+length) sharing this object's owner; clamps to size().
  Bytes slice(std::size_t offset, std::size_t length = static_cast<std::size_t>(-1)) const;

  /// Byte-wise equality.
  friend bool operator==(const Bytes& a, const Bytes& b) {
    return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.data_, b.data_, a.size_) == 0);
  }

 private:
  std::shared_ptr<const void> owner_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace omnio
