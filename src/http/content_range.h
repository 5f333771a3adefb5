// HTTP byte ranges as the REST backends send and read them (RFC 9110 section 14).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace omnio::http {

/// "bytes=<offset>-<offset+n-1>" for n >= 1 bytes at offset.
std::string range_header(std::uint64_t offset, std::uint64_t n);

/// Parses a Content-Range value "bytes 0-99/1234" into (0, 99, 1234); `total` is -1 for "/*".
/// False when malformed or last < first, except "bytes N-(N-1)/N": zero bytes at the end (Azurite).
bool parse_content_range(std::string_view v, std::uint64_t* first, std::uint64_t* last,
                         std::int64_t* total);

}  // namespace omnio::http
