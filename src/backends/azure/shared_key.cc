#include "backends/azure/shared_key.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "http/encoding.h"

namespace omnio::azure {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Canonical header values: unfolded, leading and trailing spaces trimmed (Azure does not collapse
// inner runs).
std::string trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return std::string(v);
}

}  // namespace

std::string shared_key_string_to_sign(const SharedKeyInput& in) {
  std::map<std::string, std::string> h;  // lower-case name -> value
  for (const auto& [k, v] : in.headers) h[lower(k)] = trim(v);
  auto get = [&](const char* name) {
    auto it = h.find(name);
    return it == h.end() ? std::string() : it->second;
  };
  std::string s = in.method + "\n";
  s += get("content-encoding") + "\n";
  s += get("content-language") + "\n";
  s += (in.content_length == 0 ? std::string() : std::to_string(in.content_length)) + "\n";
  s += get("content-md5") + "\n";
  s += get("content-type") + "\n";
  s += get("date") + "\n";
  s += get("if-modified-since") + "\n";
  s += get("if-match") + "\n";
  s += get("if-none-match") + "\n";
  s += get("if-unmodified-since") + "\n";
  s += get("range") + "\n";
  for (const auto& [k, v] : h) {  // std::map: sorted by name
    if (k.rfind("x-ms-", 0) == 0) s += k + ":" + v + "\n";
  }
  s += "/" + in.account + in.encoded_path;
  std::map<std::string, std::vector<std::string>> q;
  for (const auto& [k, v] : in.query) q[lower(k)].push_back(v);
  for (auto& [k, vals] : q) {
    std::sort(vals.begin(), vals.end());
    std::string joined;
    for (const auto& v : vals) joined += (joined.empty() ? "" : ",") + v;
    s += "\n" + k + ":" + joined;
  }
  return s;
}

std::string shared_key_authorization(const SharedKeyInput& in, const std::string& decoded_key) {
  const std::string mac = http::hmac_sha256(decoded_key, shared_key_string_to_sign(in));
  return fmt::format("SharedKey {}:{}", in.account, http::base64_encode(mac));
}

}  // namespace omnio::azure
