// Azure SharedKey signing against a vector computed independently (tests/azure/azure_sharedkey.py
// vector: Python's hmac/base64 following the Azure REST docs), plus the XML documents and the
// shared encodings the signer relies on.
#include <gtest/gtest.h>

#include "backends/azure/azure_xml.h"
#include "backends/azure/shared_key.h"
#include "http/encoding.h"

namespace omnio::azure {
namespace {

constexpr const char* kAzuriteKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

SharedKeyInput vector_input() {
  SharedKeyInput in;
  in.method = "PUT";
  in.account = "devstoreaccount1";
  in.encoded_path = "/devstoreaccount1/c1/dir/a%20b%2Bc.bin";  // path-style: the account twice
  in.query = {{"comp", "block"}, {"blockid", "AAA="}, {"Timeout", "30"}};
  in.headers = {{"x-ms-date", "Wed, 25 Nov 2026 01:02:03 GMT"},
                {"x-ms-version", "2023-11-03"},
                {"x-ms-range", "bytes=0-99"},
                {"If-Match", "\"0x8D\""},
                {"Content-Type", "text/plain"},
                {"x-ms-meta-Color", " blue "}};
  in.content_length = 11;
  return in;
}

TEST(AzureSharedKey, StringToSignMatchesIndependentVector) {
  EXPECT_EQ(shared_key_string_to_sign(vector_input()),
            "PUT\n\n\n11\n\ntext/plain\n\n\n\"0x8D\"\n\n\n\n"
            "x-ms-date:Wed, 25 Nov 2026 01:02:03 GMT\nx-ms-meta-color:blue\nx-ms-range:bytes=0-99\n"
            "x-ms-version:2023-11-03\n/devstoreaccount1/devstoreaccount1/c1/dir/a%20b%2Bc.bin\n"
            "blockid:AAA=\ncomp:block\ntimeout:30");
}

TEST(AzureSharedKey, AuthorizationMatchesIndependentVector) {
  auto key = http::base64_decode(kAzuriteKey);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(shared_key_authorization(vector_input(), *key),
            "SharedKey devstoreaccount1:aON6OGnuc4MCMCMRr6oisogf3r21EKjQjdKAdQUecxE=");
}

TEST(AzureSharedKey, ZeroLengthIsSignedAsEmptyAndQueryValuesAreJoined) {
  SharedKeyInput in;
  in.method = "GET";
  in.account = "acct";
  in.encoded_path = "/c";
  in.query = {{"restype", "container"},
              {"comp", "list"},
              {"include", "snapshots"},
              {"include", "metadata"}};
  const std::string s = shared_key_string_to_sign(in);
  EXPECT_EQ(s,
            "GET\n\n\n\n\n\n\n\n\n\n\n\n/acct/"
            "c\ncomp:list\ninclude:metadata,snapshots\nrestype:container");
}

TEST(AzureEncoding, Base64RoundTrip) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto back = http::base64_decode(http::base64_encode(s));
    ASSERT_TRUE(back.has_value()) << s;
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(http::base64_encode("foobar"), "Zm9vYmFy");
  // Padding is optional (GCS and JWTs send it without): "abc" is "abc=".
  EXPECT_EQ(http::base64_decode("abc"), http::base64_decode("abc="));
  EXPECT_FALSE(http::base64_decode("a").has_value());  // a dangling sixth of a byte
  EXPECT_FALSE(http::base64_decode("a!c=").has_value());
}

TEST(AzureXml, ListBlobsPageWithPrefixesMarkerAndEncodedNames) {
  auto page = parse_list_blobs(
      R"(<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="x" ContainerName="c">)"
      R"(<Prefix>d/</Prefix><Blobs><Blob><Name>d/a.bin</Name><Properties><Content-Length>42</Content-Length>)"
      R"(<Etag>0x1</Etag><Last-Modified>Wed, 25 Nov 2026 01:02:03 GMT</Last-Modified></Properties></Blob>)"
      R"(<Blob><Name Encoded="true">d/%EF%BF%BEx</Name><Properties><Content-Length>1</Content-Length></Properties></Blob>)"
      R"(<BlobPrefix><Name>d/sub/</Name></BlobPrefix></Blobs><NextMarker>2!abc</NextMarker></EnumerationResults>)");
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  ASSERT_EQ(page->blobs.size(), 2u);
  EXPECT_EQ(page->blobs[0].name, "d/a.bin");
  EXPECT_EQ(page->blobs[0].size, 42u);
  EXPECT_EQ(page->blobs[1].name, "d/\xEF\xBF\xBEx");
  EXPECT_EQ(page->prefixes, std::vector<std::string>{"d/sub/"});
  EXPECT_EQ(page->next_marker, "2!abc");
  auto last = parse_list_blobs("<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>");
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->next_marker.empty());
  EXPECT_FALSE(parse_list_blobs("<html>").ok());
}

TEST(AzureXml, ContainersErrorAndBlockList) {
  auto page = parse_list_containers(
      "<EnumerationResults><Containers><Container><Name>a</Name></Container><Container><Name>b</"
      "Name>"
      "</Container></Containers><NextMarker/></EnumerationResults>");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->names, (std::vector<std::string>{"a", "b"}));
  auto e = parse_error(
      "<?xml version=\"1.0\"?><Error><Code>BlobNotFound</Code><Message>gone</Message></Error>");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "BlobNotFound");
  EXPECT_FALSE(parse_error("").has_value());
  EXPECT_EQ(build_block_list({"MDE=", "MDI="}),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>MDE=</Latest>"
            "<Latest>MDI=</Latest></BlockList>");
}

}  // namespace
}  // namespace omnio::azure
