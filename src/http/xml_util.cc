#include "http/xml_util.h"

#include <fmt/format.h>

namespace omnio::http {

Result<pugi::xml_document> load_xml(std::string_view body, std::string_view what) {
  pugi::xml_document doc;
  pugi::xml_parse_result r = doc.load_buffer(body.data(), body.size());
  if (!r) {
    return Error(ErrorCode::kInternal,
                 fmt::format("malformed {} XML from the server: {} at offset {}", what,
                             r.description(), r.offset));
  }
  return doc;
}

std::string xml_text(const pugi::xml_node& n, const char* child) {
  return n.child(child).text().as_string();
}

void append_xml_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
}

}  // namespace omnio::http
