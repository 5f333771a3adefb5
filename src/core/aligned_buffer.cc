#include "omnio/aligned_buffer.h"

#include <cstdlib>
#include <utility>

#include <fmt/format.h>

namespace omnio {

Result<AlignedBuffer> AlignedBuffer::allocate(std::size_t size, std::size_t alignment) {
  if (!is_power_of_two(alignment) || alignment < alignof(std::max_align_t)) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("buffer alignment {} is not a power of two >= {}", alignment,
                             alignof(std::max_align_t)));
  }
  AlignedBuffer b;
  b.capacity_ = align_up(size == 0 ? 1 : size, alignment);
  void* p = nullptr;
  if (posix_memalign(&p, alignment, b.capacity_) != 0) {
    return Error(ErrorCode::kResourceExhausted,
                 fmt::format("cannot allocate {} bytes aligned to {}", b.capacity_, alignment));
  }
  b.data_ = static_cast<std::byte*>(p);
  b.size_ = size;
  b.alignment_ = alignment;
  return b;
}

AlignedBuffer::AlignedBuffer(AlignedBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      capacity_(std::exchange(o.capacity_, 0)),
      alignment_(std::exchange(o.alignment_, 0)) {}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& o) noexcept {
  if (this != &o) {
    std::free(data_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    alignment_ = std::exchange(o.alignment_, 0);
  }
  return *this;
}

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

void AlignedBuffer::resize(std::size_t n) {
  if (n > capacity_) std::abort();  // programming error: callers check capacity()
  size_ = n;
}

std::byte* AlignedBuffer::release() {
  size_ = capacity_ = alignment_ = 0;
  return std::exchange(data_, nullptr);
}

}  // namespace omnio
