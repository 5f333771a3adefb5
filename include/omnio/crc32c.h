// CRC32C (Castagnoli), hardware-accelerated through ISA-L where the CPU has SSE4.2/PCLMUL/AVX-512.
// The one checksum omnio uses everywhere, printed as "crc32c:%08x".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace omnio {

/// Extends `crc` (0 to start) with `data`. crc32c_update(0, "123456789") == 0xE3069283.
std::uint32_t crc32c_update(std::uint32_t crc, std::span<const std::byte> data);
inline std::uint32_t crc32c(std::span<const std::byte> data) { return crc32c_update(0, data); }
std::uint32_t crc32c(std::string_view data);
/// "crc32c:%08x".
std::string format_crc32c(std::uint32_t crc);

}  // namespace omnio
