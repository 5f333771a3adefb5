#include "omnio/aligned_buffer.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <utility>

#include "core/huge_pages.h"

namespace omnio {

std::byte* map_on_huge_page(std::size_t len) {
  const std::size_t padded = len + kHugePageSize;
  void* m = ::mmap(nullptr, padded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return nullptr;
  auto* base = static_cast<std::byte*>(m);
  auto* start =
      reinterpret_cast<std::byte*>(align_up(reinterpret_cast<std::uintptr_t>(base), kHugePageSize));
  const auto head = static_cast<std::size_t>(start - base);
  if (head > 0) ::munmap(base, head);
  if (padded - head - len > 0) ::munmap(start + len, padded - head - len);
  ::madvise(start, len, MADV_HUGEPAGE);
  return start;
}

namespace {

Status check_alignment(std::size_t alignment) {
  if (!is_power_of_two(alignment) || alignment < alignof(std::max_align_t)) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("buffer alignment {} is not a power of two >= {}", alignment,
                             alignof(std::max_align_t)));
  }
  return ok_status();
}

}  // namespace

std::size_t budgeted_capacity(std::size_t size, std::size_t alignment) {
  const std::size_t cap = align_up(size == 0 ? 1 : size, alignment);
  return cap >= kLargeBufferThreshold ? cap : 0;
}

Result<AlignedBuffer> AlignedBuffer::allocate(std::size_t size, std::size_t alignment,
                                              const CancellationToken& cancel) {
  OMNIO_TRY(check_alignment(alignment));
  MemoryReservation r;
  if (const std::size_t charge = budgeted_capacity(size, alignment); charge != 0) {
    OMNIO_ASSIGN_OR_RETURN(r, MemoryBudget::process().reserve(charge, cancel));
  }
  return allocate(size, alignment, std::move(r), cancel);
}

Result<AlignedBuffer> AlignedBuffer::allocate(std::size_t size, std::size_t alignment,
                                              MemoryReservation reserved,
                                              const CancellationToken& cancel) {
  OMNIO_TRY(check_alignment(alignment));
  AlignedBuffer b;
  b.capacity_ = align_up(size == 0 ? 1 : size, alignment);
  if (const std::size_t charge = budgeted_capacity(size, alignment); reserved.bytes() < charge) {
    OMNIO_ASSIGN_OR_RETURN(MemoryReservation more,
                           MemoryBudget::process().reserve(charge - reserved.bytes(), cancel));
    reserved.merge(std::move(more));
  }
  b.reservation_ = std::move(reserved);
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  if (b.capacity_ >= kLargeBufferThreshold && alignment <= page) {
    // Large buffers are freed from many threads (HTTP loops, pool workers); heap arenas would keep
    // the memory after free and inflate RSS far beyond what is live.
    // Buffers of a huge page or more start on a huge-page boundary and ask for transparent huge
    // pages: first touch then costs one fault per 2 MiB instead of per 4 KiB (page faults were a
    // quarter of the CPU of a 1 GiB ranged GET). Where THP is off this is plain 4 KiB pages.
    const std::size_t len = align_up(b.capacity_, page);
    std::byte* base = nullptr;
    if (b.capacity_ >= kHugePageSize) {
      base = map_on_huge_page(len);
    } else if (void* m =
                   ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
               m != MAP_FAILED) {
      base = static_cast<std::byte*>(m);
    }
    if (base == nullptr) {
      return Error(ErrorCode::kResourceExhausted, fmt::format("cannot map {} bytes", b.capacity_));
    }
    b.data_ = base;
    b.mapped_ = true;
    b.size_ = size;
    b.alignment_ = alignment;
    return b;
  }
  // A plain malloc block, aligned inside: glibc's dynamic mmap threshold then learns from its free
  // (a block it mapped raises the threshold to the block's size, so the next buffer of this size
  // comes from the heap). posix_memalign asks malloc for more than the block it frees, so buffers
  // of 128 KiB-1 MiB were mapped and unmapped one by one (page faults, and a TLB shootdown per
  // free): `get --discard` of 20,000 files of 128 KiB took 6 s instead of 0.35 s.
  const std::size_t slack = alignment > alignof(std::max_align_t) ? alignment : 0;
  void* block = std::malloc(b.capacity_ + slack);
  if (block == nullptr) {
    return Error(ErrorCode::kResourceExhausted,
                 fmt::format("cannot allocate {} bytes aligned to {}", b.capacity_, alignment));
  }
  b.block_ = block;
  b.data_ =
      reinterpret_cast<std::byte*>(align_up(reinterpret_cast<std::uintptr_t>(block), alignment));
  b.size_ = size;
  b.alignment_ = alignment;
  return b;
}

AlignedBuffer::AlignedBuffer(AlignedBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)),
      block_(std::exchange(o.block_, nullptr)),
      mapped_(std::exchange(o.mapped_, false)),
      size_(std::exchange(o.size_, 0)),
      capacity_(std::exchange(o.capacity_, 0)),
      alignment_(std::exchange(o.alignment_, 0)),
      reservation_(std::move(o.reservation_)),
      owner_(std::move(o.owner_)) {}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& o) noexcept {
  if (this != &o) {
    free_memory();
    data_ = std::exchange(o.data_, nullptr);
    block_ = std::exchange(o.block_, nullptr);
    mapped_ = std::exchange(o.mapped_, false);
    size_ = std::exchange(o.size_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    alignment_ = std::exchange(o.alignment_, 0);
    reservation_ = std::move(o.reservation_);
    owner_ = std::move(o.owner_);
  }
  return *this;
}

AlignedBuffer::~AlignedBuffer() { free_memory(); }

AlignedBuffer AlignedBuffer::carved(std::byte* data, std::size_t size, std::size_t capacity,
                                    std::size_t alignment, std::shared_ptr<const void> owner) {
  AlignedBuffer b;
  b.data_ = data;
  b.size_ = size;
  b.capacity_ = capacity;
  b.alignment_ = alignment;
  b.owner_ = std::move(owner);
  return b;
}

void AlignedBuffer::free_memory() {
  if (data_ == nullptr) return;
  if (owner_) {
    owner_.reset();
  } else if (mapped_) {
    ::munmap(data_, capacity_);
  } else {
    std::free(block_);
  }
  data_ = nullptr;
  block_ = nullptr;
  reservation_.release();  // after the memory is gone
}

void AlignedBuffer::resize(std::size_t n) {
  if (n > capacity_) std::abort();  // programming error: callers check capacity()
  size_ = n;
}

}  // namespace omnio
