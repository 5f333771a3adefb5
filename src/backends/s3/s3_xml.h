// The S3 XML documents omnio reads and writes (pugixml). Parsers never trust a 200 status alone:
// CopyObject and CompleteMultipartUpload can answer 200 with an <Error> body.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "omnio/result.h"

namespace omnio::s3 {

/// <Error><Code/><Message/><RequestId/><Resource/></Error>
struct ErrorDoc {
  std::string code;
  std::string message;
  std::string request_id;
  std::string resource;
};
/// The error document in `body`, if it is one.
std::optional<ErrorDoc> parse_error(std::string_view body);

struct ListedObject {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;
  std::string last_modified;
};
/// One page of ListObjectsV2. Keys and prefixes are URL-decoded when the server says
/// <EncodingType>url</EncodingType>.
struct ListPage {
  std::vector<ListedObject> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_continuation_token;
};
Result<ListPage> parse_list_v2(std::string_view body);

/// ListBuckets: bucket names.
Result<std::vector<std::string>> parse_list_buckets(std::string_view body);

/// CreateMultipartUpload: the UploadId.
Result<std::string> parse_initiate_multipart(std::string_view body);

/// CompleteMultipartUpload: the ETag (may be empty: Ceph answers without one). An <Error> body is
/// an error even under HTTP 200.
Result<std::string> parse_complete_multipart(std::string_view body);

/// CopyObject / UploadPartCopy: the ETag; an <Error> body is an error even under HTTP 200.
Result<std::string> parse_copy_result(std::string_view body);

/// DeleteObjects: per-key outcome.
struct DeleteError {
  std::string key;
  std::string code;
  std::string message;
};
struct DeleteResult {
  std::vector<std::string> deleted;
  std::vector<DeleteError> errors;
};
Result<DeleteResult> parse_delete_result(std::string_view body);

/// <Delete><Quiet>false</Quiet><Object><Key>..</Key></Object>...</Delete>
std::string build_delete_request(const std::vector<std::string>& keys);
/// <CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>...</CompleteMultipartUpload>
/// The x-amz-checksum-crc32c value of a CRC32C: its 4 big-endian bytes in base64
/// (crc32c("123456789") = 0xE3069283 -> "4waSgw==").
std::string crc32c_b64(std::uint32_t crc);
/// S3's COMPOSITE checksum of a multipart upload from its parts' CRC32Cs, in part order:
/// base64(CRC32C(big-endian part CRCs concatenated)) + "-" + number of parts.
std::string composite_crc32c_b64(const std::vector<std::uint32_t>& part_crcs);

/// One part of a CompleteMultipartUpload: number, ETag, and its CRC32C (base64; empty = none).
struct CompletedPart {
  int number = 0;
  std::string etag;
  std::string checksum_crc32c;
};
std::string build_complete_multipart(const std::vector<CompletedPart>& parts);
/// <CreateBucketConfiguration><LocationConstraint>region</...> (empty for us-east-1).
std::string build_create_bucket(std::string_view region);

/// Percent-decoding of EncodingType=url values.
std::string url_decode(std::string_view s);

}  // namespace omnio::s3
