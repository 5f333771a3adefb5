#include "omnio/units.h"

#include <fmt/format.h>

#include <cctype>

namespace omnio {

Result<std::uint64_t> parse_byte_size(std::string_view text, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{} '{}': {}; expected a number with an optional unit such as 4096, "
                             "8MiB, 8MB, 1k, 1Ki, 2g",
                             what, text, why));
  };
  std::uint64_t n = 0;
  std::size_t digits = 0, i = 0;
  for (; i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '_');
       ++i) {
    if (text[i] == '_') continue;
    if (++digits > 19) return bad("too large");
    n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
  }
  if (digits == 0) return bad("no number");
  std::string unit;
  for (; i < text.size(); ++i)
    unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  static constexpr struct {
    std::string_view name;
    std::uint64_t mult;
  } kUnits[] = {{"", 1},
                {"k", 1000ull},
                {"m", 1000ull * 1000},
                {"g", 1000ull * 1000 * 1000},
                {"t", 1000ull * 1000 * 1000 * 1000},
                {"ki", 1ull << 10},
                {"mi", 1ull << 20},
                {"gi", 1ull << 30},
                {"ti", 1ull << 40}};
  for (const auto& u : kUnits) {
    if (u.name != unit) continue;
    if (n != 0 && u.mult > UINT64_MAX / n) return bad("too large");
    return n * u.mult;
  }
  return bad(fmt::format("unknown unit '{}'", unit));
}

std::string format_bytes(double b) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.2f} {}", b, kUnits[u]);
}

}  // namespace omnio
