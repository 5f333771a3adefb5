// AWS Signature Version 4 header signing (S3 flavour: the canonical URI is not double-encoded and
// x-amz-content-sha256 is always signed).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/encoding.h"

namespace omnio::s3 {

/// Static credentials (a session token is optional).
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

/// What is signed. `path` is already URI-encoded (use uri_encode(key, false)); `query` holds raw
/// (unencoded) name/value pairs; `headers` must include host.
struct SigningInput {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;
  /// Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_hash;
  /// "20130524T000000Z".
  std::string amz_date;
  std::string region;
  std::string service = "s3";
};

/// The pieces of a signature (exposed for tests and debug logs; never log the secret).
struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  /// The full Authorization header value.
  std::string authorization;
  std::string signed_headers;
};

Signature sign_v4(const SigningInput& in, const Credentials& creds);

/// Shared with the other signers (src/http/encoding.h).
using http::sha256_hex;
using http::uri_encode;

}  // namespace omnio::s3
