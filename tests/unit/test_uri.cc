#include <gtest/gtest.h>

#include "omnio/uri.h"

namespace omnio {
namespace {

Uri parse_ok(std::string_view s) {
  auto r = Uri::parse(s);
  EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? *r : Uri{};
}

std::string parse_err(std::string_view s) {
  auto r = Uri::parse(s);
  EXPECT_FALSE(r.ok()) << s << " parsed but should not";
  if (r.ok()) return {};
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << s;
  return r.error().message();
}

TEST(Uri, FileAbsolute) {
  Uri u = parse_ok("file:///data/train/x.npz");
  EXPECT_EQ(u.scheme, Scheme::kFile);
  EXPECT_EQ(u.path, "/data/train/x.npz");
  EXPECT_EQ(u.to_string(), "file:///data/train/x.npz");
}

TEST(Uri, FileNormalisesSlashesAndDots) {
  EXPECT_EQ(parse_ok("file:////data//a/./b").path, "/data/a/b");
  EXPECT_EQ(parse_ok("file:///data/dir/").path, "/data/dir/");
  EXPECT_EQ(parse_ok("file:///").path, "/");
  EXPECT_EQ(parse_ok("file://localhost/etc/x").path, "/etc/x");
}

TEST(Uri, DirectAbsolute) {
  Uri u = parse_ok("direct:///mnt/nvme/ckpt.bin");
  EXPECT_EQ(u.scheme, Scheme::kDirect);
  EXPECT_EQ(u.path, "/mnt/nvme/ckpt.bin");
  EXPECT_TRUE(u.is_local());
  EXPECT_EQ(u.to_string(), "direct:///mnt/nvme/ckpt.bin");
}

TEST(Uri, FileRelativeIsRejectedWithExpectedForm) {
  std::string m = parse_err("file://data/x");
  EXPECT_NE(m.find("file:///"), std::string::npos) << m;
  EXPECT_NE(m.find("absolute"), std::string::npos) << m;
  parse_err("file://./rel/x");
  parse_err("direct://rel");
  parse_err("file://");
}

TEST(Uri, DotDotIsRejected) {
  std::string m = parse_err("file:///data/../etc/passwd");
  EXPECT_NE(m.find(".."), std::string::npos);
  parse_err("direct:///a/b/..");
}

TEST(Uri, S3BucketAndKey) {
  Uri u = parse_ok("s3://bucket/dir/key.bin");
  EXPECT_EQ(u.scheme, Scheme::kS3);
  EXPECT_EQ(u.bucket, "bucket");
  EXPECT_EQ(u.key, "dir/key.bin");
  EXPECT_EQ(u.to_string(), "s3://bucket/dir/key.bin");
}

TEST(Uri, S3BucketOnlyAndPrefix) {
  EXPECT_EQ(parse_ok("s3://bucket").key, "");
  EXPECT_EQ(parse_ok("s3://bucket/").key, "");
  EXPECT_EQ(parse_ok("s3://bucket/prefix/").key, "prefix/");
}

TEST(Uri, S3DottedBucketIsABucketNotAnEndpoint) {
  Uri u = parse_ok("s3://my.data.bucket/key");
  EXPECT_EQ(u.bucket, "my.data.bucket");
  EXPECT_EQ(u.key, "key");
}

TEST(Uri, S3KeysAreLiteral) {
  // No percent-decoding: the key is exactly what was written.
  EXPECT_EQ(parse_ok("s3://b/a%20b%2Fc").key, "a%20b%2Fc");
  EXPECT_EQ(parse_ok("s3://b/with space/and+plus").key, "with space/and+plus");
  EXPECT_EQ(parse_ok("s3://b/ünïcødé/日本語.bin").key, "ünïcødé/日本語.bin");
  EXPECT_EQ(parse_ok("s3://b//leading-slash").key, "/leading-slash");
  EXPECT_EQ(parse_ok("s3://b/q?x=1#frag").key, "q?x=1#frag");
}

TEST(Uri, S3Malformed) {
  EXPECT_NE(parse_err("s3:///key").find("bucket name is empty"), std::string::npos);
  parse_err("s3://");
  parse_err("s3:/bucket/key");    // missing slash
  parse_err("s3:bucket/key");     // missing slashes
  parse_err("s3//bucket/key");    // missing colon
  parse_err("s3://bu cket/key");  // space in bucket
  std::string m = parse_err("s3://bucket:9000/key");
  EXPECT_NE(m.find("s3://bucket/key"), std::string::npos) << m;
}

TEST(Uri, SchemeIsCaseInsensitive) {
  EXPECT_EQ(parse_ok("S3://b/k").scheme, Scheme::kS3);
  EXPECT_EQ(parse_ok("FILE:///x").scheme, Scheme::kFile);
}

TEST(Uri, AzureThreeSegments) {
  Uri u = parse_ok("az://acct/container/dir/blob");
  EXPECT_EQ(u.scheme, Scheme::kAzure);
  EXPECT_EQ(u.account, "acct");
  EXPECT_EQ(u.bucket, "container");
  EXPECT_EQ(u.key, "dir/blob");
  EXPECT_EQ(u.to_string(), "az://acct/container/dir/blob");
  EXPECT_EQ(parse_ok("az://acct/container").key, "");
}

TEST(Uri, AzureHttpsFormNormalises) {
  Uri u = parse_ok("https://acct.blob.core.windows.net/container/dir/blob");
  EXPECT_EQ(u.scheme, Scheme::kAzure);
  EXPECT_EQ(u.account, "acct");
  EXPECT_EQ(u.bucket, "container");
  EXPECT_EQ(u.key, "dir/blob");
  EXPECT_EQ(u.to_string(), "az://acct/container/dir/blob");
}

TEST(Uri, AzureMalformed) {
  EXPECT_NE(parse_err("az://acct").find("az://account/container/key"), std::string::npos);
  parse_err("az:///container/key");
  parse_err("az://acct//key");
  parse_err("az://Acct/container/key");
  parse_err("az://acct/Container/key");
  parse_err("https://example.com/container/key");
}

TEST(Uri, GcsAndAlias) {
  Uri a = parse_ok("gs://bucket/obj");
  Uri b = parse_ok("gcs://bucket/obj");
  EXPECT_EQ(a, b);
  EXPECT_EQ(b.to_string(), "gs://bucket/obj");
  parse_err("gs:///obj");
  parse_err("gcs://");
}

TEST(Uri, UnknownSchemeListsKnownOnes) {
  std::string m = parse_err("ftp://host/x");
  for (auto s : {"file://", "direct://", "s3://", "az://", "gs://"}) {
    EXPECT_NE(m.find(s), std::string::npos) << m;
  }
  parse_err("/just/a/path");
  parse_err("");
  parse_err("://x");
}

TEST(Uri, ControlCharactersRejected) {
  parse_err(std::string("s3://b/a\nb"));
  parse_err(std::string("file:///a\tb"));
}

TEST(Uri, SchemeOf) {
  EXPECT_EQ(*scheme_of("gcs://b/k"), Scheme::kGcs);
  EXPECT_FALSE(scheme_of("nope").ok());
}

TEST(Uri, WithKey) {
  EXPECT_EQ(parse_ok("s3://b/k").with_key("z").to_string(), "s3://b/z");
  EXPECT_EQ(parse_ok("file:///a/b").with_key("/c").to_string(), "file:///c");
}

}  // namespace
}  // namespace omnio
