// PodVector: a growable array of trivially copyable values that grows with realloc().
//
// Why not std::vector: a vector grows by allocating a new block, copying and freeing the old one,
// so every element is written twice and every page of the new block is faulted in fresh. On our
// VMs a page fault costs ~14 us, and listing 20,000 files spent two thirds of its 30 ms in faults
// (docs/BENCHMARKS.md, run 20). glibc's realloc() of a large (mmap'ed) block moves its pages with
// mremap(): no copy and no new faults, so a listing's arrays cost one fault per page they hold.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace omnio {

template <typename T>
class PodVector {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  PodVector() = default;
  PodVector(const PodVector& o) { append(o.data_, o.size_); }
  PodVector(PodVector&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        cap_(std::exchange(o.cap_, 0)) {}
  PodVector& operator=(PodVector o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(cap_, o.cap_);
    return *this;
  }
  ~PodVector() { std::free(data_); }

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return cap_; }
  bool empty() const { return size_ == 0; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  T& back() { return data_[size_ - 1]; }

  void push_back(const T& v) {
    if (size_ == cap_) grow(size_ + 1);
    data_[size_++] = v;
  }
  /// Appends `n` values from `p` (which must not point into this vector).
  void append(const T* p, std::size_t n) {
    if (n == 0) return;
    if (cap_ - size_ < n) grow(size_ + n);
    std::memcpy(static_cast<void*>(data_ + size_), p, n * sizeof(T));
    size_ += n;
  }
  void reserve(std::size_t n) {
    if (n > cap_) reallocate(n);
  }
  /// Drops the elements from `n` on (n <= size()).
  void truncate(std::size_t n) { size_ = n < size_ ? n : size_; }

 private:
  void grow(std::size_t need) {
    std::size_t cap = cap_ < 16 ? 16 : cap_ * 2;
    while (cap < need) cap *= 2;
    reallocate(cap);
  }
  void reallocate(std::size_t cap) {
    void* p = std::realloc(data_, cap * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    data_ = static_cast<T*>(p);
    cap_ = cap;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

}  // namespace omnio
