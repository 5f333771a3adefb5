// Azure Storage SharedKey signing (Blob service, version 2009-09-19 and later): the string to sign
// and the Authorization header. Exposed for the unit test against an independently computed vector.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "http/http_client.h"

namespace omnio::azure {

/// What is signed.
struct SharedKeyInput {
  std::string method;
  /// Storage account of the request (the key's account).
  std::string account;
  /// The request path exactly as in the URL, percent-encoded ("/devstoreaccount1/c/a%20b" on
  /// Azurite, "/c/a%20b" on Azure).
  std::string encoded_path;
  /// Decoded query parameters.
  std::vector<std::pair<std::string, std::string>> query;
  /// Every header sent (x-ms-date included); names are matched case-insensitively.
  http::Headers headers;
  /// Request body bytes (Content-Length is signed as empty when 0).
  std::uint64_t content_length = 0;
};

/// The canonical string to sign (never contains the key).
std::string shared_key_string_to_sign(const SharedKeyInput& in);
/// "SharedKey <account>:<base64 HMAC-SHA256 of the string to sign under the decoded key>".
std::string shared_key_authorization(const SharedKeyInput& in, const std::string& decoded_key);

}  // namespace omnio::azure
