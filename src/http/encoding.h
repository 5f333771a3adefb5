// Encodings and digests the REST backends share (SigV4, Azure SharedKey, OAuth2, GCS JWTs):
// RFC 3986 percent-encoding, hex, base64 (standard and URL-safe), SHA-256 and HMAC-SHA256
// (OpenSSL).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace omnio::http {

/// Percent-encodes every byte except RFC 3986 unreserved characters (A-Z a-z 0-9 - _ . ~), and
/// '/' too unless `encode_slash`. Upper-case hex digits.
std::string percent_encode(std::string_view s, bool encode_slash = true);
/// The same, under the name SigV4 and Azure use ("UriEncode").
inline std::string uri_encode(std::string_view s, bool encode_slash) {
  return percent_encode(s, encode_slash);
}
/// Lower-case hex of bytes.
std::string hex(std::string_view bytes);
/// Lower-case hex SHA-256.
std::string sha256_hex(std::string_view data);
/// Raw HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);
/// Standard base64 with '=' padding.
std::string base64_encode(std::string_view bytes);
/// URL-safe base64 without padding (RFC 4648 section 5), as JWTs use it.
std::string base64url_encode(std::string_view bytes);
/// Decodes standard or URL-safe base64 (padding optional); nullopt on a malformed input.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace omnio::http
