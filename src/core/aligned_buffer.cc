#include "omnio/aligned_buffer.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

namespace omnio {

Result<AlignedBuffer> AlignedBuffer::allocate(std::size_t size, std::size_t alignment) {
  if (!is_power_of_two(alignment) || alignment < alignof(std::max_align_t)) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("buffer alignment {} is not a power of two >= {}", alignment,
                             alignof(std::max_align_t)));
  }
  AlignedBuffer b;
  b.capacity_ = align_up(size == 0 ? 1 : size, alignment);
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  if (b.capacity_ >= kLargeBufferThreshold && alignment <= page) {
    // Large buffers are freed from many threads (HTTP loops, pool workers); heap arenas would keep
    // the memory after free and inflate RSS far beyond what is live.
    void* m =
        ::mmap(nullptr, b.capacity_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      return Error(ErrorCode::kResourceExhausted, fmt::format("cannot map {} bytes", b.capacity_));
    }
    b.data_ = static_cast<std::byte*>(m);
    b.mapped_ = true;
    b.size_ = size;
    b.alignment_ = alignment;
    return b;
  }
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
      mapped_(std::exchange(o.mapped_, false)),
      size_(std::exchange(o.size_, 0)),
      capacity_(std::exchange(o.capacity_, 0)),
      alignment_(std::exchange(o.alignment_, 0)) {}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& o) noexcept {
  if (this != &o) {
    free_memory();
    data_ = std::exchange(o.data_, nullptr);
    mapped_ = std::exchange(o.mapped_, false);
    size_ = std::exchange(o.size_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    alignment_ = std::exchange(o.alignment_, 0);
  }
  return *this;
}

AlignedBuffer::~AlignedBuffer() { free_memory(); }

void AlignedBuffer::free_memory() {
  if (data_ == nullptr) return;
  if (mapped_) {
    ::munmap(data_, capacity_);
  } else {
    std::free(data_);
  }
  data_ = nullptr;
}

void AlignedBuffer::resize(std::size_t n) {
  if (n > capacity_) std::abort();  // programming error: callers check capacity()
  size_ = n;
}

}  // namespace omnio
