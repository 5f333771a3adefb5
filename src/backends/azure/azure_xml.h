// The Azure Blob XML documents omnio reads and writes (pugixml): error bodies, List Blobs and List
// Containers pages, and the Put Block List body.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "omnio/result.h"

namespace omnio::azure {

/// <Error><Code/><Message/></Error>
struct ErrorDoc {
  std::string code;
  std::string message;
};
std::optional<ErrorDoc> parse_error(std::string_view body);

struct ListedBlob {
  std::string name;
  std::uint64_t size = 0;
  std::string etag;
  std::string last_modified;
};

/// One List Blobs page.
struct BlobPage {
  std::vector<ListedBlob> blobs;
  /// BlobPrefix names (delimiter listings), ending in the delimiter.
  std::vector<std::string> prefixes;
  /// Empty on the last page.
  std::string next_marker;
};
Result<BlobPage> parse_list_blobs(std::string_view body);

/// One List Containers page: names and the next marker.
struct ContainerPage {
  std::vector<std::string> names;
  std::string next_marker;
};
Result<ContainerPage> parse_list_containers(std::string_view body);

/// <BlockList><Latest>id</Latest>...</BlockList> in the given order.
std::string build_block_list(const std::vector<std::string>& block_ids);

}  // namespace omnio::azure
