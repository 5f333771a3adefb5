// HTTP dates: RFC 1123 for request headers (x-ms-date), RFC 3339 for ObjectMetadata.
#pragma once

#include <string>
#include <string_view>

namespace omnio::http {

/// The current time as an RFC 1123 HTTP date ("Wed, 25 Nov 2026 01:02:03 GMT").
std::string http_date_now();

/// RFC 1123 ("Wed, 25 Nov 2026 01:02:03 GMT") or ISO 8601 -> RFC 3339 UTC; empty when unparseable.
std::string to_rfc3339(std::string_view http_date);

}  // namespace omnio::http
