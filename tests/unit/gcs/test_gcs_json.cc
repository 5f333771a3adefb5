// The GCS JSON documents omnio reads (recorded from the service's documentation and the firebase
// emulator), x-goog-hash parsing, and the HTTP status -> error code mapping.
#include <gtest/gtest.h>

#include "backends/gcs/gcs_json.h"
#include "backends/gcs/gcs_store_impl.h"
#include "omnio/retry.h"

namespace omnio::gcs {
namespace {

TEST(GcsJson, ObjectResource) {
  auto o = parse_object(
      R"({"kind":"storage#object","name":"a/b.bin","bucket":"bk","generation":"1796036552638",
    "contentType":"application/octet-stream","updated":"2026-11-30T11:02:32.638Z","storageClass":"STANDARD",
    "size":"10000","etag":"Ehz7gGlYpf0f9yq/sK1AuCXB10g","crc32c":"XZrsFA==","metadata":{"k":"v"}})");
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(o->name, "a/b.bin");
  EXPECT_EQ(o->size, 10000u);
  EXPECT_EQ(o->meta.size, 10000u);
  EXPECT_EQ(o->generation, "1796036552638");
  EXPECT_EQ(o->meta.etag, "Ehz7gGlYpf0f9yq/sK1AuCXB10g");
  EXPECT_EQ(o->meta.last_modified, "2026-11-30T11:02:32.638Z");
  EXPECT_EQ(o->meta.metadata.at("k"), "v");
  EXPECT_EQ(o->meta.storage_class, "STANDARD");
  EXPECT_FALSE(parse_object("<html>").ok());
}

TEST(GcsJson, ListPageWithPrefixesAndToken) {
  auto p = parse_list_page(R"({"kind":"storage#objects","nextPageToken":"mp1","prefixes":["a/"],
    "items":[{"name":"copy2","size":"10000"},{"name":"x","size":5}]})");
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->items.size(), 2u);
  EXPECT_EQ(p->items[1].size, 5u);
  EXPECT_EQ(p->prefixes, std::vector<std::string>{"a/"});
  EXPECT_EQ(p->next_page_token, "mp1");
  auto empty = parse_list_page(R"({"kind":"storage#objects"})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->items.empty());
  EXPECT_TRUE(empty->next_page_token.empty());
}

TEST(GcsJson, RewriteAndBuckets) {
  auto r = parse_rewrite(
      R"({"kind":"storage#rewriteResponse","totalBytesRewritten":"1048576","objectSize":"10485760",
    "done":false,"rewriteToken":"tok"})");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->done);
  EXPECT_EQ(r->rewrite_token, "tok");
  EXPECT_EQ(r->object_size, 10485760u);
  EXPECT_TRUE(parse_rewrite(R"({"done":true,"resource":{}})")->done);
  auto b = parse_bucket_page(R"({"items":[{"name":"b1"},{"id":"b2"}],"nextPageToken":"n"})");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->names, (std::vector<std::string>{"b1", "b2"}));
}

TEST(GcsJson, ErrorDocument) {
  auto e = parse_error(
      R"({"error":{"code":404,"message":"No such object: bk/nope","errors":[{"reason":"notFound"}]}})");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->message, "No such object: bk/nope");
  EXPECT_EQ(e->reason, "notFound");
  EXPECT_FALSE(parse_error("Not Implemented").has_value());
  EXPECT_FALSE(parse_error("<Error><Code>SlowDown</Code></Error>").has_value());
}

TEST(GcsJson, GoogHashCrc32c) {
  // CRC32C("123456789") = 0xE3069283 -> base64 of its big-endian bytes.
  EXPECT_EQ(crc32c_from_goog_hash("crc32c=4waSgw==,md5=JfnnlDI7RTiF9RgfG2JNCw=="), 0xE3069283u);
  EXPECT_EQ(crc32c_from_goog_hash("md5=JfnnlDI7RTiF9RgfG2JNCw==, crc32c=4waSgw=="), 0xE3069283u);
  EXPECT_FALSE(crc32c_from_goog_hash("md5=JfnnlDI7RTiF9RgfG2JNCw==").has_value());
  EXPECT_FALSE(crc32c_from_goog_hash("crc32c=!!").has_value());
}

TEST(GcsJson, UploadMetadata) {
  PutOptions o;
  o.content_type = "text/plain";
  o.metadata = {{"k", "v \"q\""}};
  EXPECT_EQ(upload_metadata("a/b", o),
            R"({"contentType":"text/plain","metadata":{"k":"v \"q\""},"name":"a/b"})");
}

TEST(GcsErrors, StatusMapping) {
  auto code = [](long status, std::string body = {}) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    return gcs_error(r, "GET gs://b/k", "http://e");
  };
  EXPECT_EQ(code(404).code(), ErrorCode::kNotFound);
  EXPECT_EQ(code(403).code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(code(401).code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(code(416).code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(code(412).code(), ErrorCode::kDataLoss);
  EXPECT_EQ(code(501).code(), ErrorCode::kUnimplemented);
  EXPECT_TRUE(RetryPolicy::is_retryable(code(429)));
  EXPECT_TRUE(RetryPolicy::is_retryable(code(503)));
  EXPECT_TRUE(RetryPolicy::is_retryable(code(500)));
  EXPECT_FALSE(RetryPolicy::is_retryable(code(404)));
  EXPECT_FALSE(RetryPolicy::is_retryable(code(403)));
  Error e = code(
      403,
      R"({"error":{"code":403,"message":"x@y does not have storage.objects.get access","errors":[{"reason":"forbidden"}]}})");
  EXPECT_NE(e.message().find("forbidden: x@y does not have storage.objects.get access"),
            std::string::npos)
      << e.message();
  EXPECT_EQ(e.http_status(), 403);
}

}  // namespace
}  // namespace omnio::gcs
