#include "backends/gcs/gcs_json.h"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "http/encoding.h"

namespace omnio::gcs {
namespace {

using Json = nlohmann::json;

std::string str(const Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<long long>());
  return {};
}

// GCS sends 64-bit numbers as strings ("size": "1234"); emulators sometimes as numbers.
std::uint64_t u64(const Json& j, const char* name) {
  std::string s = str(j, name);
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

Result<Json> parse(std::string_view text, std::string_view what) {
  try {
    Json j = Json::parse(text);
    if (!j.is_object()) throw std::runtime_error("not an object");
    return j;
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal,
                 fmt::format("unreadable {} from the server: {}", what, e.what()));
  }
}

ObjectResource object_from(const Json& j) {
  ObjectResource o;
  o.name = str(j, "name");
  o.size = u64(j, "size");
  o.generation = str(j, "generation");
  o.crc32c = str(j, "crc32c");
  o.meta.size = o.size;
  o.meta.etag = str(j, "etag");
  if (o.meta.etag.empty()) o.meta.etag = o.generation;
  o.meta.last_modified = str(j, "updated");
  o.meta.content_type = str(j, "contentType");
  o.meta.storage_class = str(j, "storageClass");
  if (auto m = j.find("metadata"); m != j.end() && m->is_object()) {
    for (auto it = m->begin(); it != m->end(); ++it) {
      if (it.value().is_string()) o.meta.metadata[it.key()] = it.value().get<std::string>();
    }
  }
  return o;
}

}  // namespace

Result<ObjectResource> parse_object(std::string_view text) {
  OMNIO_ASSIGN_OR_RETURN(Json j, parse(text, "object resource"));
  return object_from(j);
}

Result<ListPage> parse_list_page(std::string_view text) {
  OMNIO_ASSIGN_OR_RETURN(Json j, parse(text, "object list"));
  ListPage p;
  if (auto it = j.find("items"); it != j.end() && it->is_array()) {
    for (const auto& o : *it) p.items.push_back(object_from(o));
  }
  if (auto it = j.find("prefixes"); it != j.end() && it->is_array()) {
    for (const auto& s : *it) {
      if (s.is_string()) p.prefixes.push_back(s.get<std::string>());
    }
  }
  p.next_page_token = str(j, "nextPageToken");
  return p;
}

Result<BucketPage> parse_bucket_page(std::string_view text) {
  OMNIO_ASSIGN_OR_RETURN(Json j, parse(text, "bucket list"));
  BucketPage p;
  if (auto it = j.find("items"); it != j.end() && it->is_array()) {
    for (const auto& b : *it) {
      std::string n = str(b, "name");
      if (n.empty()) n = str(b, "id");
      if (!n.empty()) p.names.push_back(n);
    }
  }
  p.next_page_token = str(j, "nextPageToken");
  return p;
}

Result<RewriteStatus> parse_rewrite(std::string_view text) {
  OMNIO_ASSIGN_OR_RETURN(Json j, parse(text, "rewrite answer"));
  RewriteStatus s;
  if (auto it = j.find("done"); it != j.end() && it->is_boolean()) s.done = it->get<bool>();
  s.rewrite_token = str(j, "rewriteToken");
  s.bytes_rewritten = u64(j, "totalBytesRewritten");
  s.object_size = u64(j, "objectSize");
  // A plain object resource (the emulators' copyTo) means done.
  if (j.find("done") == j.end() && j.find("name") != j.end()) s.done = true;
  return s;
}

std::optional<ErrorDoc> parse_error(std::string_view text) {
  try {
    Json j = Json::parse(text);
    auto e = j.find("error");
    if (e == j.end()) return std::nullopt;
    ErrorDoc d;
    if (e->is_string()) {  // OAuth2 style
      d.reason = e->get<std::string>();
      d.message = str(j, "error_description");
      return d;
    }
    if (!e->is_object()) return std::nullopt;
    d.message = str(*e, "message");
    if (auto errs = e->find("errors"); errs != e->end() && errs->is_array() && !errs->empty()) {
      d.reason = str((*errs)[0], "reason");
    }
    return d;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string upload_metadata(const std::string& name, const PutOptions& opts) {
  Json j = {{"name", name}};
  if (!opts.content_type.empty()) j["contentType"] = opts.content_type;
  if (!opts.metadata.empty()) j["metadata"] = opts.metadata;
  return j.dump();
}

std::optional<std::uint32_t> crc32c_from_goog_hash(std::string_view v) {
  while (!v.empty()) {
    auto comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.substr(0, 7) == "crc32c=") {
      auto raw = http::base64_decode(item.substr(7));
      if (!raw || raw->size() != 4) return std::nullopt;
      const auto* b = reinterpret_cast<const unsigned char*>(raw->data());
      return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
             (std::uint32_t{b[2]} << 8) | b[3];
    }
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

}  // namespace omnio::gcs
