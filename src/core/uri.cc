#include "omnio/uri.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include <fmt/format.h>

namespace omnio {
namespace {

constexpr std::string_view kForms =
    "file:///abs/path, direct:///abs/path, s3://bucket/key, az://account/container/key, "
    "gs://bucket/key (or gcs://bucket/key)";

Error invalid(std::string_view text, std::string_view what, std::string_view expected) {
  return Error(ErrorCode::kInvalidArgument,
               fmt::format("invalid URI '{}': {}; expected {}", text, what, expected));
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool has_control_char(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

// Splits "scheme://rest"; the scheme is matched case-insensitively.
bool split_scheme(std::string_view text, std::string* scheme, std::string_view* rest) {
  auto pos = text.find("://");
  if (pos == std::string_view::npos || pos == 0) return false;
  *scheme = lower(text.substr(0, pos));
  *rest = text.substr(pos + 3);
  return true;
}

// Normalises an absolute path: collapses '//' and '.', refuses '..' (a key never escapes a root).
Result<std::string> normalise_local(std::string_view text, std::string_view path,
                                    std::string_view expected) {
  if (path.empty() || path.front() != '/') {
    return invalid(text, "local paths must be absolute (three slashes: file:///data/x)", expected);
  }
  std::string out;
  std::size_t i = 0;
  bool trailing_slash = path.size() > 1 && path.back() == '/';
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    i = j;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") return invalid(text, "'..' path components are not allowed", expected);
    out += '/';
    out.append(seg);
  }
  if (out.empty()) out = "/";
  if (trailing_slash && out != "/") out += '/';
  return out;
}

bool valid_bucket_char(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_';
}

Result<Uri> parse_bucket_key(std::string_view text, std::string_view rest, Scheme scheme,
                             std::string_view expected) {
  auto slash = rest.find('/');
  std::string_view bucket = rest.substr(0, slash);
  std::string_view key = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (bucket.empty()) return invalid(text, "the bucket name is empty", expected);
  if (bucket.size() > 255 ||
      !std::all_of(bucket.begin(), bucket.end(),
                   [](unsigned char c) { return valid_bucket_char(c); })) {
    return invalid(text, fmt::format("bucket name '{}' may contain only letters, digits, '.', '-' "
                                     "and '_'", bucket),
                   expected);
  }
  Uri u;
  u.scheme = scheme;
  u.bucket = std::string(bucket);
  u.key = std::string(key);
  return u;
}

Result<Uri> parse_azure_parts(std::string_view text, std::string_view account,
                              std::string_view rest, std::string_view expected) {
  if (account.empty()) return invalid(text, "the storage account is empty", expected);
  if (!std::all_of(account.begin(), account.end(),
                   [](unsigned char c) { return std::islower(c) || std::isdigit(c); })) {
    return invalid(text,
                   fmt::format("storage account '{}' may contain only lower-case letters and digits",
                               account),
                   expected);
  }
  auto slash = rest.find('/');
  std::string_view container = rest.substr(0, slash);
  std::string_view key = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (container.empty()) return invalid(text, "the container name is empty", expected);
  if (!std::all_of(container.begin(), container.end(), [](unsigned char c) {
        return std::islower(c) || std::isdigit(c) || c == '-' || c == '$';
      })) {
    return invalid(text,
                   fmt::format("container name '{}' may contain only lower-case letters, digits "
                               "and '-'",
                               container),
                   expected);
  }
  Uri u;
  u.scheme = Scheme::kAzure;
  u.account = std::string(account);
  u.bucket = std::string(container);
  u.key = std::string(key);
  return u;
}

}  // namespace

std::string_view scheme_name(Scheme s) {
  switch (s) {
    case Scheme::kFile: return "file";
    case Scheme::kDirect: return "direct";
    case Scheme::kS3: return "s3";
    case Scheme::kAzure: return "az";
    case Scheme::kGcs: return "gs";
  }
  return "?";
}

Result<Scheme> scheme_of(std::string_view text) {
  std::string scheme;
  std::string_view rest;
  if (!split_scheme(text, &scheme, &rest)) {
    return invalid(text, "no scheme (expected 'scheme://')", kForms);
  }
  if (scheme == "file") return Scheme::kFile;
  if (scheme == "direct") return Scheme::kDirect;
  if (scheme == "s3") return Scheme::kS3;
  if (scheme == "az") return Scheme::kAzure;
  if (scheme == "gs" || scheme == "gcs") return Scheme::kGcs;
  if (scheme == "https" && rest.find(".blob.core.windows.net") != std::string_view::npos) {
    return Scheme::kAzure;
  }
  return invalid(text, fmt::format("unknown scheme '{}'", scheme),
                 "one of file://, direct://, s3://, az://, gs://, gcs://");
}

Result<Uri> Uri::parse(std::string_view text) {
  if (text.empty()) return invalid(text, "the URI is empty", kForms);
  if (has_control_char(text)) return invalid(text, "it contains control characters", kForms);
  OMNIO_ASSIGN_OR_RETURN(Scheme scheme, scheme_of(text));
  std::string scheme_text;
  std::string_view rest;
  split_scheme(text, &scheme_text, &rest);
  switch (scheme) {
    case Scheme::kFile:
    case Scheme::kDirect: {
      std::string_view expected =
          scheme == Scheme::kFile ? "file:///absolute/path" : "direct:///absolute/path";
      if (!rest.empty() && rest.front() != '/') {
        if (rest.substr(0, 9) == "localhost" && (rest.size() == 9 || rest[9] == '/')) {
          rest.remove_prefix(9);
        } else {
          return invalid(text, "local paths must be absolute (three slashes: file:///data/x)",
                         expected);
        }
      }
      OMNIO_ASSIGN_OR_RETURN(std::string path, normalise_local(text, rest, expected));
      Uri u;
      u.scheme = scheme;
      u.path = std::move(path);
      return u;
    }
    case Scheme::kS3:
      return parse_bucket_key(text, rest, Scheme::kS3, "s3://bucket/key");
    case Scheme::kGcs:
      return parse_bucket_key(text, rest, Scheme::kGcs, "gs://bucket/key");
    case Scheme::kAzure: {
      constexpr std::string_view expected =
          "az://account/container/key or https://account.blob.core.windows.net/container/key";
      if (scheme_text == "https") {
        auto slash = rest.find('/');
        std::string_view host = rest.substr(0, slash);
        constexpr std::string_view suffix = ".blob.core.windows.net";
        if (host.size() <= suffix.size() || host.substr(host.size() - suffix.size()) != suffix) {
          return invalid(text, "the host is not <account>.blob.core.windows.net", expected);
        }
        if (slash == std::string_view::npos) return invalid(text, "no container", expected);
        OMNIO_ASSIGN_OR_RETURN(
            Uri u, parse_azure_parts(text, host.substr(0, host.size() - suffix.size()),
                                     rest.substr(slash + 1), expected));
        u.host = std::string(host);
        return u;
      }
      auto slash = rest.find('/');
      if (slash == std::string_view::npos) {
        return invalid(text, "no container after the account", expected);
      }
      return parse_azure_parts(text, rest.substr(0, slash), rest.substr(slash + 1), expected);
    }
  }
  return invalid(text, "unsupported scheme", kForms);
}

std::string Uri::to_string() const {
  switch (scheme) {
    case Scheme::kFile: return "file://" + path;
    case Scheme::kDirect: return "direct://" + path;
    case Scheme::kS3: return "s3://" + bucket + "/" + key;
    case Scheme::kGcs: return "gs://" + bucket + "/" + key;
    case Scheme::kAzure: return "az://" + account + "/" + bucket + "/" + key;
  }
  return {};
}

Uri Uri::with_key(std::string new_key) const {
  Uri u = *this;
  if (is_local()) {
    u.path = std::move(new_key);
  } else {
    u.key = std::move(new_key);
  }
  return u;
}

}  // namespace omnio
