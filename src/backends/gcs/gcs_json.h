// The GCS JSON API documents omnio reads: object resources, list pages, bucket lists, rewrite
// answers and error documents. Pure functions (unit-tested on recorded documents).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "omnio/object_store.h"
#include "omnio/result.h"

namespace omnio::gcs {

/// An object resource ("kind": "storage#object").
struct ObjectResource {
  std::string name;
  std::uint64_t size = 0;
  std::string generation;
  ObjectMetadata meta;
  /// Base64 CRC32C from the resource; empty when absent.
  std::string crc32c;
};
Result<ObjectResource> parse_object(std::string_view json);

/// One page of objects.list.
struct ListPage {
  std::vector<ObjectResource> items;
  std::vector<std::string> prefixes;
  std::string next_page_token;
};
Result<ListPage> parse_list_page(std::string_view json);

/// One page of buckets.list: names and the next token.
struct BucketPage {
  std::vector<std::string> names;
  std::string next_page_token;
};
Result<BucketPage> parse_bucket_page(std::string_view json);

/// objects.rewrite answer.
struct RewriteStatus {
  bool done = false;
  std::string rewrite_token;
  std::uint64_t bytes_rewritten = 0;
  std::uint64_t object_size = 0;
};
Result<RewriteStatus> parse_rewrite(std::string_view json);

/// {"error": {"code", "message", "errors": [{"reason"}]}}: message and first reason; nullopt when
/// the body is not such a document (an emulator's or a proxy's plain text).
struct ErrorDoc {
  std::string message;
  std::string reason;
};
std::optional<ErrorDoc> parse_error(std::string_view json);

/// JSON for the metadata part of an upload: {"name", "contentType", "metadata": {...}}.
std::string upload_metadata(const std::string& name, const PutOptions& opts);

/// The CRC32C in x-goog-hash values ("crc32c=n03x6A==,md5=..."), decoded; nullopt when absent.
std::optional<std::uint32_t> crc32c_from_goog_hash(std::string_view header_value);

}  // namespace omnio::gcs
