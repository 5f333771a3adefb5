#include "http/content_range.h"

#include <fmt/format.h>

#include <charconv>

namespace omnio::http {

std::string range_header(std::uint64_t offset, std::uint64_t n) {
  return fmt::format("bytes={}-{}", offset, offset + n - 1);
}

bool parse_content_range(std::string_view v, std::uint64_t* first, std::uint64_t* last,
                         std::int64_t* total) {
  if (v.substr(0, 6) != "bytes ") return false;
  v.remove_prefix(6);
  auto dash = v.find('-'), slash = v.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash)
    return false;
  auto num = [](std::string_view s, std::uint64_t* out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
  };
  if (!num(v.substr(0, dash), first) || !num(v.substr(dash + 1, slash - dash - 1), last))
    return false;
  std::string_view t = v.substr(slash + 1);
  if (t == "*") {
    *total = -1;
    return true;
  }
  std::uint64_t tot = 0;
  if (!num(t, &tot)) return false;
  *total = static_cast<std::int64_t>(tot);
  // "bytes 100-99/100": zero bytes at the end (Azurite's answer to a range starting at the end).
  return *last >= *first || (*last + 1 == *first && tot == *first);
}

}  // namespace omnio::http
