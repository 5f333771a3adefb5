#include "http/http_date.h"

#include <ctime>

namespace omnio::http {

std::string http_date_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  // strftime's %a/%b follow the C locale, which omnio never changes.
  char buf[40];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string to_rfc3339(std::string_view s) {
  std::tm tm{};
  std::string str(s);
  const char* end = strptime(str.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end != nullptr) {
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }
  // ISO 8601 from listings: "2026-11-25T01:02:03.000Z" is already RFC 3339.
  if (str.size() >= 20 && str[4] == '-' && str[10] == 'T' && str.back() == 'Z') return str;
  return {};
}

}  // namespace omnio::http
