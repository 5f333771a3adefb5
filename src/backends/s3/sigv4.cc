#include "backends/s3/sigv4.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "http/encoding.h"

namespace omnio::s3 {
namespace {

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
  std::string k = http::hmac_sha256("AWS4" + creds.secret_access_key, date);
  k = http::hmac_sha256(k, in.region);
  k = http::hmac_sha256(k, in.service);
  k = http::hmac_sha256(k, "aws4_request");
  const std::string raw = http::hmac_sha256(k, sig.string_to_sign);
  sig.signature = http::hex(raw);
  sig.authorization =
      fmt::format("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                  creds.access_key_id, scope, sig.signed_headers, sig.signature);
  return sig;
}

}  // namespace omnio::s3
