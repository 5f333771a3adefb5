#include "backends/s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "http/encoding.h"

namespace omnio::s3 {
namespace {

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 0xf];
  }
  return out;
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string lower_trim(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims and collapses runs of spaces, as SigV4 canonical header values require.
std::string canonical_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return hex(out, sizeof out);
}

std::string uri_encode(std::string_view s, bool encode_slash) {
  return http::percent_encode(s, encode_slash);  // SigV4's UriEncode is RFC 3986 percent-encoding
}

Signature sign_v4(const SigningInput& in, const Credentials& creds) {
  Signature sig;
  // Canonical query: encode names and values, sort by name then value.
  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& [k, v] : in.query) q.emplace_back(uri_encode(k, true), uri_encode(v, true));
  std::sort(q.begin(), q.end());
  std::string query;
  for (const auto& [k, v] : q) query += (query.empty() ? "" : "&") + k + "=" + v;

  std::vector<std::pair<std::string, std::string>> h;
  for (const auto& [k, v] : in.headers) h.emplace_back(lower_trim(k), canonical_value(v));
  std::sort(h.begin(), h.end());
  std::string headers;
  for (const auto& [k, v] : h) {
    headers += k + ":" + v + "\n";
    sig.signed_headers += (sig.signed_headers.empty() ? "" : ";") + k;
  }

  sig.canonical_request = fmt::format("{}\n{}\n{}\n{}\n{}\n{}", in.method, in.path, query, headers,
                                      sig.signed_headers, in.payload_hash);
  const std::string date = in.amz_date.substr(0, 8);
  const std::string scope = fmt::format("{}/{}/{}/aws4_request", date, in.region, in.service);
  sig.string_to_sign = fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", in.amz_date, scope,
                                   sha256_hex(sig.canonical_request));
  std::string k = hmac("AWS4" + creds.secret_access_key, date);
  k = hmac(k, in.region);
  k = hmac(k, in.service);
  k = hmac(k, "aws4_request");
  const std::string raw = hmac(k, sig.string_to_sign);
  sig.signature = hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  sig.authorization =
      fmt::format("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                  creds.access_key_id, scope, sig.signed_headers, sig.signature);
  return sig;
}

}  // namespace omnio::s3
