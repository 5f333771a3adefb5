#include "backends/s3/s3_xml.h"

#include <fmt/format.h>

#include <pugixml.hpp>

#include "http/encoding.h"
#include "http/xml_util.h"
#include "omnio/crc32c.h"

namespace omnio::s3 {
namespace {

using http::xml_text;

Result<pugi::xml_document> load(std::string_view body, std::string_view what) {
  return http::load_xml(body, what);
}

std::string text(const pugi::xml_node& n, const char* child) { return xml_text(n, child); }

Error error_from(const ErrorDoc& e, std::string_view what) {
  return Error(ErrorCode::kInternal, fmt::format("{} failed with {}: {} (request id {})", what,
                                                 e.code, e.message, e.request_id));
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      out += static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<ErrorDoc> parse_error(std::string_view body) {
  if (body.empty()) return std::nullopt;
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return std::nullopt;
  pugi::xml_node e = doc.child("Error");
  if (!e) return std::nullopt;
  return ErrorDoc{text(e, "Code"), text(e, "Message"), text(e, "RequestId"), text(e, "Resource")};
}

Result<ListPage> parse_list_v2(std::string_view body) {
  OMNIO_ASSIGN_OR_RETURN(auto doc, load(body, "ListObjectsV2"));
  pugi::xml_node root = doc.child("ListBucketResult");
  if (!root) return Error(ErrorCode::kInternal, "ListObjectsV2 response has no ListBucketResult");
  const bool encoded = std::string_view(text(root, "EncodingType")) == "url";
  auto dec = [&](std::string v) { return encoded ? url_decode(v) : v; };
  ListPage page;
  for (pugi::xml_node c : root.children("Contents")) {
    ListedObject o;
    o.key = dec(text(c, "Key"));
    o.size = c.child("Size").text().as_ullong();
    o.etag = text(c, "ETag");
    o.last_modified = text(c, "LastModified");
    page.objects.push_back(std::move(o));
  }
  for (pugi::xml_node p : root.children("CommonPrefixes"))
    page.common_prefixes.push_back(dec(text(p, "Prefix")));
  page.truncated = std::string_view(text(root, "IsTruncated")) == "true";
  page.next_continuation_token = text(root, "NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty()) {
    return Error(ErrorCode::kInternal,
                 "ListObjectsV2 page is truncated but carries no NextContinuationToken");
  }
  return page;
}

Result<std::vector<std::string>> parse_list_buckets(std::string_view body) {
  OMNIO_ASSIGN_OR_RETURN(auto doc, load(body, "ListBuckets"));
  pugi::xml_node root = doc.child("ListAllMyBucketsResult");
  if (!root)
    return Error(ErrorCode::kInternal, "ListBuckets response has no ListAllMyBucketsResult");
  std::vector<std::string> out;
  for (pugi::xml_node b : root.child("Buckets").children("Bucket")) out.push_back(text(b, "Name"));
  return out;
}

Result<std::string> parse_initiate_multipart(std::string_view body) {
  OMNIO_ASSIGN_OR_RETURN(auto doc, load(body, "CreateMultipartUpload"));
  std::string id = doc.child("InitiateMultipartUploadResult").child("UploadId").text().as_string();
  if (id.empty())
    return Error(ErrorCode::kInternal, "CreateMultipartUpload response has no UploadId");
  return id;
}

Result<std::string> parse_complete_multipart(std::string_view body) {
  if (auto e = parse_error(body)) return error_from(*e, "CompleteMultipartUpload");
  OMNIO_ASSIGN_OR_RETURN(auto doc, load(body, "CompleteMultipartUpload"));
  // AWS and Ceph answer CompleteMultipartUploadResult; moto answers ...Response.
  pugi::xml_node root = doc.child("CompleteMultipartUploadResult");
  if (!root) root = doc.child("CompleteMultipartUploadResponse");
  if (!root) {
    return Error(ErrorCode::kInternal,
                 "CompleteMultipartUpload response has no CompleteMultipartUploadResult");
  }
  return std::string(text(root, "ETag"));
}

Result<std::string> parse_copy_result(std::string_view body) {
  if (auto e = parse_error(body)) return error_from(*e, "CopyObject");
  OMNIO_ASSIGN_OR_RETURN(auto doc, load(body, "CopyObject"));
  pugi::xml_node root = doc.first_child();
  if (std::string_view(root.name()) != "CopyObjectResult" &&
      std::string_view(root.name()) != "CopyPartResult") {
    return Error(ErrorCode::kInternal,
                 fmt::format("CopyObject response has an unexpected <{}>", root.name()));
  }
  return std::string(text(root, "ETag"));
}

Result<DeleteResult> parse_delete_result(std::string_view body) {
  if (auto e = parse_error(body)) return error_from(*e, "DeleteObjects");
  OMNIO_ASSIGN_OR_RETURN(auto doc, load(body, "DeleteObjects"));
  pugi::xml_node root = doc.child("DeleteResult");
  if (!root) return Error(ErrorCode::kInternal, "DeleteObjects response has no DeleteResult");
  DeleteResult out;
  for (pugi::xml_node d : root.children("Deleted")) out.deleted.push_back(text(d, "Key"));
  for (pugi::xml_node e : root.children("Error")) {
    out.errors.push_back({text(e, "Key"), text(e, "Code"), text(e, "Message")});
  }
  return out;
}

std::string build_delete_request(const std::vector<std::string>& keys) {
  std::string out =
      R"(<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>false</Quiet>)";
  for (const auto& k : keys) {
    out += "<Object><Key>";
    http::append_xml_escaped(out, k);
    out += "</Key></Object>";
  }
  out += "</Delete>";
  return out;
}

std::string crc32c_b64(std::uint32_t crc) {
  const char b[4] = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16),
                     static_cast<char>(crc >> 8), static_cast<char>(crc)};
  return http::base64_encode(std::string_view(b, 4));
}

std::string composite_crc32c_b64(const std::vector<std::uint32_t>& part_crcs) {
  std::uint32_t of_parts = 0;
  for (std::uint32_t crc : part_crcs) {
    const std::byte be[4] = {std::byte(crc >> 24), std::byte(crc >> 16), std::byte(crc >> 8),
                             std::byte(crc)};
    of_parts = crc32c_update(of_parts, be);
  }
  return fmt::format("{}-{}", crc32c_b64(of_parts), part_crcs.size());
}

std::string build_complete_multipart(const std::vector<CompletedPart>& parts) {
  std::string out =
      R"(<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)";
  for (const auto& p : parts) {
    out += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>", p.number);
    http::append_xml_escaped(out, p.etag);
    out += "</ETag>";
    if (!p.checksum_crc32c.empty()) {
      out += "<ChecksumCRC32C>";
      http::append_xml_escaped(out, p.checksum_crc32c);
      out += "</ChecksumCRC32C>";
    }
    out += "</Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

std::string build_create_bucket(std::string_view region) {
  if (region.empty() || region == "us-east-1") return {};
  std::string out =
      R"(<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>)";
  http::append_xml_escaped(out, region);
  out += "</LocationConstraint></CreateBucketConfiguration>";
  return out;
}

}  // namespace omnio::s3
