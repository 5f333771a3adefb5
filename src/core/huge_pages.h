// Anonymous mappings that start on a transparent-huge-page boundary (AlignedBuffer's large
// buffers, BufferRecycler's slabs).
#pragma once

#include <cstddef>

namespace omnio {

/// The transparent huge page size of x86-64 and arm64 (4 KiB base pages).
inline constexpr std::size_t kHugePageSize = std::size_t{2} << 20;

/// Maps `len` bytes (a multiple of the page size) read-write, starting on a kHugePageSize
/// boundary, and asks for transparent huge pages (madvise; where THP is off these are 4 KiB
/// pages). Unmapped with munmap(p, len). Null when the mapping fails.
std::byte* map_on_huge_page(std::size_t len);

}  // namespace omnio
