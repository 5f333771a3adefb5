// Encodings and digests the request signers share (SigV4, Azure SharedKey, OAuth2): percent
// encoding, hex, base64, SHA-256 and HMAC-SHA256 (OpenSSL).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace omnio::http {

/// RFC 3986 encoding: unreserved characters kept, everything else %XX (upper case); '/' kept when
/// encode_slash is false.
std::string uri_encode(std::string_view s, bool encode_slash);
/// Lower-case hex of bytes.
std::string hex(std::string_view bytes);
/// Lower-case hex SHA-256.
std::string sha256_hex(std::string_view data);
/// Raw HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);
/// Standard base64 (with padding).
std::string base64_encode(std::string_view bytes);
/// Decodes standard base64; nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace omnio::http
