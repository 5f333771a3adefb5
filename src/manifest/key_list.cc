#include "omnio/key_list.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "omnio/constants.h"
#include "omnio/uri.h"

namespace omnio {
namespace {

constexpr const char* kExpected =
    "expected a URI (s3://bucket/key), an absolute path, a key relative to the prefix, or a JSON "
    "object with \"uri\" or \"key\" as `omnio ls --json` writes";

Error bad_line(std::string_view name, std::uint64_t line_no, std::string why) {
  return Error(ErrorCode::kInvalidArgument,
               fmt::format("key list '{}' line {}: {}; {}", name, line_no, why, kExpected));
}

std::string shorten(std::string_view s) {
  return s.size() <= 80 ? std::string(s) : std::string(s.substr(0, 77)) + "...";
}

// A URI, an absolute path or a key relative to `base`, as a full URI; nullopt for a directory.
Result<std::optional<std::string>> resolve(std::string_view text, std::string_view base,
                                           std::string_view name, std::uint64_t line_no) {
  std::string uri;
  if (text.find("://") != std::string_view::npos) {
    if (auto s = scheme_of(text); !s.ok()) {
      return bad_line(name, line_no, fmt::format("'{}': {}", shorten(text), s.error().message()));
    }
    uri = text;
  } else if (text.front() == '/') {
    uri = "file://" + std::string(text);
  } else if (base.empty()) {
    return bad_line(name, line_no,
                    fmt::format("'{}' is a relative key but no prefix was given to resolve it "
                                "against",
                                shorten(text)));
  } else {
    uri = std::string(base) + std::string(text);
  }
  if (uri.back() == '/') return std::optional<std::string>();
  return std::optional<std::string>(std::move(uri));
}

}  // namespace

Result<std::optional<KeyListEntry>> parse_key_list_line(std::string_view line,
                                                        std::string_view base,
                                                        std::string_view name,
                                                        std::uint64_t line_no) {
  const auto first = line.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return std::optional<KeyListEntry>();
  line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
  if (line.front() == '#') return std::optional<KeyListEntry>();
  if (line.size() > kMaxKeyListLineBytes) {
    return bad_line(name, line_no,
                    fmt::format("the line is longer than {} bytes", kMaxKeyListLineBytes));
  }
  if (line.front() != '{') {
    OMNIO_ASSIGN_OR_RETURN(auto uri, resolve(line, base, name, line_no));
    if (!uri) return std::optional<KeyListEntry>();
    return std::optional<KeyListEntry>(KeyListEntry{std::move(*uri), std::nullopt});
  }
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return bad_line(name, line_no, fmt::format("'{}' is not valid JSON", shorten(line)));
  }
  if (auto d = j.find("is_dir"); d != j.end() && d->is_boolean() && d->get<bool>()) {
    return std::optional<KeyListEntry>();
  }
  const auto u = j.find("uri");
  const auto k = j.find("key");
  const bool has_uri = u != j.end() && u->is_string() && !u->get<std::string>().empty();
  const bool has_key = k != j.end() && k->is_string() && !k->get<std::string>().empty();
  if (!has_uri && !has_key) {
    return bad_line(name, line_no, "the JSON object has no non-empty string \"uri\" or \"key\"");
  }
  std::string text = has_uri ? u->get<std::string>() : k->get<std::string>();
  if (has_uri && text.find("://") == std::string::npos && text.front() != '/') {
    return bad_line(name, line_no, fmt::format("\"uri\" '{}' is not a URI", shorten(text)));
  }
  OMNIO_ASSIGN_OR_RETURN(auto uri, resolve(text, base, name, line_no));
  if (!uri) return std::optional<KeyListEntry>();
  KeyListEntry e{std::move(*uri), std::nullopt};
  if (auto s = j.find("size"); s != j.end()) {
    if (!s->is_number_unsigned()) {
      return bad_line(name, line_no, "\"size\" must be a non-negative integer (bytes)");
    }
    e.size = s->get<std::uint64_t>();
  }
  return std::optional<KeyListEntry>(std::move(e));
}

void KeyListReader::Closer::operator()(std::FILE* f) const {
  if (f != nullptr && f != stdin) std::fclose(f);
}

KeyListReader::~KeyListReader() = default;

Result<KeyListReader> KeyListReader::open(const std::string& path, std::string base) {
  KeyListReader r;
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "re");
  if (f == nullptr) {
    const int e = errno;
    return Error(e == ENOENT ? ErrorCode::kNotFound : ErrorCode::kInvalidArgument,
                 fmt::format("key list '{}': cannot open the file: {}", path, std::strerror(e)))
        .with_errno(e);
  }
  r.file_.reset(f);
  r.path_ = path == "-" ? "<stdin>" : path;
  r.base_ = std::move(base);
  return r;
}

Result<std::optional<KeyListEntry>> KeyListReader::next() {
  for (;;) {
    buf_.clear();
    int c = 0;
    // getc_unlocked: this reader owns its FILE, and getc's lock per character was most of the
    // cost of streaming a key list (`get --keys-from`'s producer thread).
    while ((c = getc_unlocked(file_.get())) != EOF && c != '\n') {
      if (buf_.size() <= kMaxKeyListLineBytes) buf_.push_back(static_cast<char>(c));
    }
    if (c == EOF && std::ferror(file_.get())) {
      return Error(ErrorCode::kUnavailable,
                   fmt::format("key list '{}': read error after line {}", path_, line_no_));
    }
    if (c == EOF && buf_.empty()) return std::optional<KeyListEntry>();
    ++line_no_;
    OMNIO_ASSIGN_OR_RETURN(auto e, parse_key_list_line(buf_, base_, path_, line_no_));
    if (e) return e;
  }
}

Result<std::vector<KeyListEntry>> parse_key_list(std::string_view text, std::string_view name,
                                                 std::string_view base) {
  std::vector<KeyListEntry> out;
  std::uint64_t line_no = 0;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    OMNIO_ASSIGN_OR_RETURN(auto e, parse_key_list_line(line, base, name, ++line_no));
    if (e) out.push_back(std::move(*e));
  }
  return out;
}

Result<std::vector<KeyListEntry>> read_key_list(const std::string& path, std::string base) {
  OMNIO_ASSIGN_OR_RETURN(KeyListReader r, KeyListReader::open(path, std::move(base)));
  std::vector<KeyListEntry> out;
  for (;;) {
    OMNIO_ASSIGN_OR_RETURN(auto e, r.next());
    if (!e) break;
    out.push_back(std::move(*e));
  }
  if (out.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("key list '{}': lists no objects ({} lines read)", path, r.line()));
  }
  return out;
}

}  // namespace omnio
