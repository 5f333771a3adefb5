#include "backends/azure/azure_xml.h"

#include <fmt/format.h>

#include <pugixml.hpp>

#include "http/encoding.h"
#include "http/xml_util.h"

namespace omnio::azure {
namespace {

using http::xml_text;

// Names with characters XML cannot carry come as <Name Encoded="true">percent-encoded</Name>.
std::string name_of(const pugi::xml_node& n) {
  pugi::xml_node name = n.child("Name");
  std::string v = name.text().as_string();
  if (!name.attribute("Encoded").as_bool()) return v;
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size()) {
      out += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

}  // namespace

std::optional<ErrorDoc> parse_error(std::string_view body) {
  if (body.empty()) return std::nullopt;
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return std::nullopt;
  pugi::xml_node e = doc.child("Error");
  if (!e) return std::nullopt;
  return ErrorDoc{xml_text(e, "Code"), xml_text(e, "Message")};
}

Result<BlobPage> parse_list_blobs(std::string_view body) {
  OMNIO_ASSIGN_OR_RETURN(auto doc, http::load_xml(body, "List Blobs"));
  pugi::xml_node root = doc.child("EnumerationResults");
  if (!root) return Error(ErrorCode::kInternal, "List Blobs response has no EnumerationResults");
  BlobPage page;
  pugi::xml_node blobs = root.child("Blobs");
  for (pugi::xml_node b : blobs.children("Blob")) {
    ListedBlob o;
    o.name = name_of(b);
    pugi::xml_node p = b.child("Properties");
    o.size = p.child("Content-Length").text().as_ullong();
    o.etag = xml_text(p, "Etag");
    o.last_modified = xml_text(p, "Last-Modified");
    page.blobs.push_back(std::move(o));
  }
  for (pugi::xml_node p : blobs.children("BlobPrefix")) page.prefixes.push_back(name_of(p));
  page.next_marker = xml_text(root, "NextMarker");
  return page;
}

Result<ContainerPage> parse_list_containers(std::string_view body) {
  OMNIO_ASSIGN_OR_RETURN(auto doc, http::load_xml(body, "List Containers"));
  pugi::xml_node root = doc.child("EnumerationResults");
  if (!root)
    return Error(ErrorCode::kInternal, "List Containers response has no EnumerationResults");
  ContainerPage page;
  for (pugi::xml_node c : root.child("Containers").children("Container"))
    page.names.push_back(name_of(c));
  page.next_marker = xml_text(root, "NextMarker");
  return page;
}

std::string build_block_list(const std::vector<std::string>& block_ids) {
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  for (const auto& id : block_ids) {
    out += "<Latest>";
    http::append_xml_escaped(out, id);
    out += "</Latest>";
  }
  out += "</BlockList>";
  return out;
}

}  // namespace omnio::azure
