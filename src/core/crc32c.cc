#include "omnio/crc32c.h"

#include <isa-l/crc.h>

#include <fmt/format.h>

namespace omnio {

std::uint32_t crc32c_update(std::uint32_t crc, std::span<const std::byte> data) {
  // ISA-L's crc32_iscsi takes and returns the raw (non-inverted) register; the standard CRC32C
  // inverts on entry and exit.
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::uint32_t raw = ~crc;
  std::size_t left = data.size();
  while (left > 0) {
    // crc32_iscsi takes an int length.
    const int n = static_cast<int>(left > (1u << 30) ? (1u << 30) : left);
    raw = crc32_iscsi(const_cast<unsigned char*>(p), n, raw);
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return ~raw;
}

std::uint32_t crc32c(std::string_view data) {
  return crc32c(std::as_bytes(std::span<const char>(data.data(), data.size())));
}

std::string format_crc32c(std::uint32_t crc) { return fmt::format("crc32c:{:08x}", crc); }

}  // namespace omnio
