// Encodings the REST backends share: RFC 3986 percent-encoding of path segments and query values,
// and base64 (standard and URL-safe) for checksums, JWTs and content hashes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace omnio::http {

/// Percent-encodes every byte except RFC 3986 unreserved characters (A-Z a-z 0-9 - _ . ~), and
/// '/' too unless `encode_slash`.
std::string percent_encode(std::string_view s, bool encode_slash = true);

/// Standard base64 with '=' padding.
std::string base64_encode(std::string_view bytes);
/// URL-safe base64 without padding (RFC 4648 section 5), as JWTs use it.
std::string base64url_encode(std::string_view bytes);
/// Decodes standard base64 (padding optional); nullopt on a malformed input.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace omnio::http
