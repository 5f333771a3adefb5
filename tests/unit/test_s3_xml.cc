// The S3 XML documents: error bodies, ListObjectsV2 / ListBuckets pages, multipart and copy results
// (including <Error> bodies under HTTP 200), DeleteObjects outcomes, the request bodies omnio
// builds, and EncodingType=url decoding.
#include <gtest/gtest.h>

#include <string>

#include "backends/s3/s3_xml.h"
#include "omnio/crc32c.h"

namespace omnio::s3 {
namespace {

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// ---- parse_error ----

TEST(S3Xml, ParseErrorReadsAwsErrorDocument) {
  auto e = parse_error(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The resource you requested does not exist</Message>
  <Resource>/mybucket/myfoto.jpg</Resource>
  <RequestId>4442587FB7D0A2F9</RequestId>
</Error>)");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "NoSuchKey");
  EXPECT_EQ(e->message, "The resource you requested does not exist");
  EXPECT_EQ(e->resource, "/mybucket/myfoto.jpg");
  EXPECT_EQ(e->request_id, "4442587FB7D0A2F9");
}

TEST(S3Xml, ParseErrorMissingFieldsAreEmpty) {
  auto e = parse_error("<Error><Code>SlowDown</Code></Error>");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "SlowDown");
  EXPECT_EQ(e->message, "");
  EXPECT_EQ(e->request_id, "");
}

TEST(S3Xml, ParseErrorRejectsNonXmlAndOtherDocuments) {
  EXPECT_FALSE(parse_error("").has_value());
  EXPECT_FALSE(parse_error("Service Unavailable").has_value());
  EXPECT_FALSE(parse_error("<Error><Code>Unclosed").has_value());
  EXPECT_FALSE(parse_error("<html><body><h1>502 Bad Gateway</h1></body></html>").has_value());
  EXPECT_FALSE(parse_error("<ListBucketResult><Name>b</Name></ListBucketResult>").has_value());
  // <Error> entries nested in a DeleteResult are not an error document.
  EXPECT_FALSE(
      parse_error(
          "<DeleteResult><Error><Key>k</Key><Code>AccessDenied</Code></Error></DeleteResult>")
          .has_value());
}

// ---- parse_list_v2 ----

TEST(S3Xml, ListV2ReadsObjectsAndPrefixes) {
  auto page = parse_list_v2(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix>dir/</Prefix>
  <KeyCount>4</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <Delimiter>/</Delimiter>
  <IsTruncated>false</IsTruncated>
  <Contents>
    <Key>dir/a.bin</Key>
    <LastModified>2024-01-02T03:04:05.000Z</LastModified>
    <ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag>
    <Size>0</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>dir/big.bin</Key>
    <LastModified>2024-01-02T03:04:06.000Z</LastModified>
    <ETag>"9b2cf535f27731c974343645a3985328-3"</ETag>
    <Size>17179869184</Size>
  </Contents>
  <CommonPrefixes><Prefix>dir/sub1/</Prefix></CommonPrefixes>
  <CommonPrefixes><Prefix>dir/sub2/</Prefix></CommonPrefixes>
</ListBucketResult>)");
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "dir/a.bin");
  EXPECT_EQ(page->objects[0].size, 0u);
  EXPECT_EQ(page->objects[0].etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
  EXPECT_EQ(page->objects[0].last_modified, "2024-01-02T03:04:05.000Z");
  EXPECT_EQ(page->objects[1].key, "dir/big.bin");
  EXPECT_EQ(page->objects[1].size, 17179869184ull);  // > 4 GiB
  EXPECT_EQ(page->objects[1].etag, "\"9b2cf535f27731c974343645a3985328-3\"");
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"dir/sub1/", "dir/sub2/"}));
  EXPECT_FALSE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "");
}

TEST(S3Xml, ListV2EmptyPage) {
  auto page = parse_list_v2(
      "<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  EXPECT_TRUE(page->objects.empty());
  EXPECT_TRUE(page->common_prefixes.empty());
  EXPECT_FALSE(page->truncated);
}

TEST(S3Xml, ListV2TruncatedCarriesContinuationToken) {
  auto page = parse_list_v2(
      "<ListBucketResult><IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
      "<Contents><Key>k1</Key><Size>5</Size><ETag>\"e\"</ETag></Contents>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  EXPECT_TRUE(page->truncated);
  // Tokens are opaque: never URL-decoded ('/' and '=' kept, '+' would be too).
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].size, 5u);
}

TEST(S3Xml, ListV2TruncatedWithoutTokenIsAnError) {
  auto page = parse_list_v2(
      "<ListBucketResult><IsTruncated>true</IsTruncated>"
      "<Contents><Key>k1</Key><Size>5</Size></Contents></ListBucketResult>");
  ASSERT_FALSE(page.ok());
  EXPECT_TRUE(contains(page.error().message(), "NextContinuationToken"))
      << page.error().to_string();
}

TEST(S3Xml, ListV2UrlEncodingTypeDecodesKeysAndPrefixes) {
  auto page = parse_list_v2(
      "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>a+b%2B</NextContinuationToken>"
      "<Contents><Key>dir/my+file.txt</Key><Size>1</Size></Contents>"
      "<Contents><Key>dir/a%2Bb.txt</Key><Size>2</Size></Contents>"
      "<Contents><Key>dir/gr%C3%BC%C3%9Fe%20x%25y</Key><Size>3</Size></Contents>"
      "<CommonPrefixes><Prefix>dir/sub+dir/</Prefix></CommonPrefixes>"
      "<CommonPrefixes><Prefix>dir/%C3%BC%2B/</Prefix></CommonPrefixes>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  ASSERT_EQ(page->objects.size(), 3u);
  EXPECT_EQ(page->objects[0].key, "dir/my file.txt");
  EXPECT_EQ(page->objects[1].key, "dir/a+b.txt");
  EXPECT_EQ(page->objects[2].key,
            "dir/gr\xC3\xBC\xC3\x9F"
            "e x%y");  // "grüße x%y"
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"dir/sub dir/", "dir/\xC3\xBC+/"}));
  EXPECT_EQ(page->next_continuation_token, "a+b%2B");
}

TEST(S3Xml, ListV2WithoutEncodingTypeKeepsKeysVerbatim) {
  auto page = parse_list_v2(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a+b%2Bc</Key><Size>1</Size></Contents>"
      "<CommonPrefixes><Prefix>x+y%20/</Prefix></CommonPrefixes></ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "a+b%2Bc");
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"x+y%20/"}));
}

TEST(S3Xml, ListV2MalformedOrWrongDocumentIsAnError) {
  auto bad = parse_list_v2("<ListBucketResult><Contents><Key>k</Key>");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(contains(bad.error().message(), "ListObjectsV2")) << bad.error().to_string();
  auto text = parse_list_v2("Internal Server Error");
  ASSERT_FALSE(text.ok());
  EXPECT_TRUE(contains(text.error().message(), "ListObjectsV2")) << text.error().to_string();
  auto other = parse_list_v2("<ListAllMyBucketsResult/>");
  ASSERT_FALSE(other.ok());
  EXPECT_TRUE(contains(other.error().message(), "ListObjectsV2")) << other.error().to_string();
}

// ---- parse_list_buckets ----

TEST(S3Xml, ListBucketsReadsNames) {
  auto names = parse_list_buckets(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Owner><ID>abc</ID><DisplayName>me</DisplayName></Owner>
  <Buckets>
    <Bucket><Name>alpha</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket>
    <Bucket><Name>beta.with.dots</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket>
  </Buckets>
</ListAllMyBucketsResult>)");
  ASSERT_TRUE(names.ok()) << names.error().to_string();
  EXPECT_EQ(*names, (std::vector<std::string>{"alpha", "beta.with.dots"}));

  auto none = parse_list_buckets("<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  auto bad = parse_list_buckets("<Foo/>");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(contains(bad.error().message(), "ListBuckets"));
  EXPECT_FALSE(parse_list_buckets("not xml").ok());
}

// ---- multipart ----

TEST(S3Xml, InitiateMultipartReadsUploadId) {
  auto id = parse_initiate_multipart(R"(<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
</InitiateMultipartUploadResult>)");
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  EXPECT_EQ(*id, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
}

TEST(S3Xml, InitiateMultipartWithoutUploadIdIsAnError) {
  auto missing = parse_initiate_multipart(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key></"
      "InitiateMultipartUploadResult>");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(contains(missing.error().message(), "UploadId")) << missing.error().to_string();
  auto empty = parse_initiate_multipart(
      "<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>");
  EXPECT_FALSE(empty.ok());
  EXPECT_FALSE(parse_initiate_multipart("<Error><Code>AccessDenied</Code></Error>").ok());
  EXPECT_FALSE(parse_initiate_multipart("garbage").ok());
}

TEST(S3Xml, CompleteMultipartReadsEtag) {
  auto aws = parse_complete_multipart(R"(<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Location>http://Example-Bucket.s3.amazonaws.com/Example-Object</Location>
  <Bucket>Example-Bucket</Bucket>
  <Key>Example-Object</Key>
  <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
</CompleteMultipartUploadResult>)");
  ASSERT_TRUE(aws.ok()) << aws.error().to_string();
  EXPECT_EQ(*aws, "\"3858f62230ac3c915f300c664312c11f-9\"");

  // moto names the root ...Response.
  auto moto = parse_complete_multipart(
      "<CompleteMultipartUploadResponse><Bucket>b</Bucket><Key>k</Key>"
      "<ETag>&quot;abc-2&quot;</ETag></CompleteMultipartUploadResponse>");
  ASSERT_TRUE(moto.ok()) << moto.error().to_string();
  EXPECT_EQ(*moto, "\"abc-2\"");

  // Ceph radosgw may answer without an ETag: still a success.
  auto ceph = parse_complete_multipart(
      "<CompleteMultipartUploadResult><Location>x</Location><Bucket>b</Bucket><Key>k</Key>"
      "<ETag></ETag></CompleteMultipartUploadResult>");
  ASSERT_TRUE(ceph.ok()) << ceph.error().to_string();
  EXPECT_EQ(*ceph, "");
  auto ceph_no_element = parse_complete_multipart(
      "<CompleteMultipartUploadResult><Bucket>b</Bucket></CompleteMultipartUploadResult>");
  ASSERT_TRUE(ceph_no_element.ok());
  EXPECT_EQ(*ceph_no_element, "");
}

TEST(S3Xml, CompleteMultipartErrorBodyUnderHttp200IsAnError) {
  auto r = parse_complete_multipart(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>InternalError</Code>
  <Message>We encountered an internal error. Please try again.</Message>
  <RequestId>656c76696e6727732072657175657374</RequestId>
</Error>)");
  ASSERT_FALSE(r.ok());
  const std::string s = r.error().to_string();
  EXPECT_TRUE(contains(s, "InternalError")) << s;
  EXPECT_TRUE(contains(s, "We encountered an internal error")) << s;
  EXPECT_TRUE(contains(s, "656c76696e6727732072657175657374")) << s;
  EXPECT_TRUE(contains(s, "CompleteMultipartUpload")) << s;
}

TEST(S3Xml, CompleteMultipartMalformedOrWrongRootIsAnError) {
  auto bad = parse_complete_multipart("<CompleteMultipartUploadResult><ETag>x");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(contains(bad.error().message(), "CompleteMultipartUpload"));
  EXPECT_FALSE(parse_complete_multipart("<Something><ETag>x</ETag></Something>").ok());
  EXPECT_FALSE(parse_complete_multipart("").ok());
}

// ---- copy ----

TEST(S3Xml, CopyResultReadsEtagOfObjectAndPart) {
  auto obj = parse_copy_result(R"(<?xml version="1.0" encoding="UTF-8"?>
<CopyObjectResult><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>"9b2cf535f27731c974343645a3985328"</ETag></CopyObjectResult>)");
  ASSERT_TRUE(obj.ok()) << obj.error().to_string();
  EXPECT_EQ(*obj, "\"9b2cf535f27731c974343645a3985328\"");

  auto part = parse_copy_result(
      "<CopyPartResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<LastModified>2011-04-11T20:34:56.000Z</LastModified>"
      "<ETag>\"b20b5b1d5a8fb2cc8b1d2d1d5fbdbf7e\"</ETag></CopyPartResult>");
  ASSERT_TRUE(part.ok()) << part.error().to_string();
  EXPECT_EQ(*part, "\"b20b5b1d5a8fb2cc8b1d2d1d5fbdbf7e\"");
}

TEST(S3Xml, CopyResultErrorBodyIsAnError) {
  auto r = parse_copy_result(
      "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
      "<RequestId>RID1</RequestId></Error>");
  ASSERT_FALSE(r.ok());
  const std::string s = r.error().to_string();
  EXPECT_TRUE(contains(s, "SlowDown")) << s;
  EXPECT_TRUE(contains(s, "Please reduce your request rate.")) << s;

  auto other = parse_copy_result("<ListBucketResult/>");
  ASSERT_FALSE(other.ok());
  EXPECT_TRUE(contains(other.error().message(), "ListBucketResult")) << other.error().to_string();
  EXPECT_FALSE(parse_copy_result("").ok());
  EXPECT_FALSE(parse_copy_result("<CopyObjectResult>").ok());
}

// ---- delete ----

TEST(S3Xml, DeleteResultReadsDeletedAndErrors) {
  auto r = parse_delete_result(R"(<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Deleted><Key>sample1.txt</Key></Deleted>
  <Error>
    <Key>sample2.txt</Key>
    <Code>AccessDenied</Code>
    <Message>Access Denied</Message>
  </Error>
  <Deleted><Key>a &amp; b.txt</Key><DeleteMarker>true</DeleteMarker></Deleted>
  <Error><Key>locked.bin</Key><Code>InternalError</Code><Message>try again</Message></Error>
</DeleteResult>)");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->deleted, (std::vector<std::string>{"sample1.txt", "a & b.txt"}));
  ASSERT_EQ(r->errors.size(), 2u);
  EXPECT_EQ(r->errors[0].key, "sample2.txt");
  EXPECT_EQ(r->errors[0].code, "AccessDenied");
  EXPECT_EQ(r->errors[0].message, "Access Denied");
  EXPECT_EQ(r->errors[1].key, "locked.bin");
  EXPECT_EQ(r->errors[1].code, "InternalError");
  EXPECT_EQ(r->errors[1].message, "try again");
}

TEST(S3Xml, DeleteResultWholeRequestErrorOrGarbageIsAnError) {
  auto e = parse_delete_result("<Error><Code>MalformedXML</Code><Message>bad</Message></Error>");
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(contains(e.error().to_string(), "MalformedXML")) << e.error().to_string();
  EXPECT_FALSE(parse_delete_result("<DeleteResult><Deleted>").ok());
  EXPECT_FALSE(parse_delete_result("<Other/>").ok());
  auto empty = parse_delete_result("<DeleteResult/>");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->deleted.empty());
  EXPECT_TRUE(empty->errors.empty());
}

// ---- builders ----

TEST(S3Xml, BuildDeleteRequestEscapesKeys) {
  const std::string x = build_delete_request({"plain/key.txt", R"(a&b<c>d"e'f)"});
  EXPECT_TRUE(contains(x, "<Delete")) << x;
  EXPECT_TRUE(contains(x, "<Quiet>false</Quiet>")) << x;
  EXPECT_TRUE(contains(x, "<Object><Key>plain/key.txt</Key></Object>")) << x;
  EXPECT_TRUE(contains(x, "<Object><Key>a&amp;b&lt;c&gt;d&quot;e&apos;f</Key></Object>")) << x;
  EXPECT_FALSE(contains(x, "a&b")) << x;
  EXPECT_TRUE(contains(x, "</Delete>")) << x;
  // Order of keys is kept.
  EXPECT_LT(x.find("plain/key.txt"), x.find("a&amp;b"));
}

TEST(S3Xml, BuildDeleteRequestKeysRoundTripThroughDeleteResultParser) {
  // The escaped keys must read back as the original bytes with an XML parser.
  const std::vector<std::string> keys = {"x & y", "<tag>", "q\"uote's",
                                         "gr\xC3\xBC\xC3\x9F"
                                         "e"};
  std::string x = build_delete_request(keys);
  // Reuse the DeleteResult parser as an XML reader: same <Key> elements under a renamed root.
  auto s = x.find("<Delete ");
  ASSERT_NE(s, std::string::npos);
  std::string doc = "<DeleteResult>";
  for (std::size_t p = x.find("<Object>"); p != std::string::npos; p = x.find("<Object>", p + 1)) {
    auto e = x.find("</Object>", p);
    ASSERT_NE(e, std::string::npos);
    doc += "<Deleted>" + x.substr(p + 8, e - p - 8) + "</Deleted>";
  }
  doc += "</DeleteResult>";
  auto r = parse_delete_result(doc);
  ASSERT_TRUE(r.ok()) << r.error().to_string() << "\n" << doc;
  EXPECT_EQ(r->deleted, keys);
}

TEST(S3Xml, BuildCompleteMultipartListsPartsInOrder) {
  const std::string x =
      build_complete_multipart({{1, "\"etag-one\""}, {2, "\"etag-two\""}, {10, "e&3"}});
  EXPECT_TRUE(contains(x, "<CompleteMultipartUpload")) << x;
  EXPECT_TRUE(
      contains(x, "<Part><PartNumber>1</PartNumber><ETag>&quot;etag-one&quot;</ETag></Part>"))
      << x;
  EXPECT_TRUE(
      contains(x, "<Part><PartNumber>2</PartNumber><ETag>&quot;etag-two&quot;</ETag></Part>"))
      << x;
  EXPECT_TRUE(contains(x, "<Part><PartNumber>10</PartNumber><ETag>e&amp;3</ETag></Part>")) << x;
  EXPECT_LT(x.find("<PartNumber>1<"), x.find("<PartNumber>2<"));
  EXPECT_LT(x.find("<PartNumber>2<"), x.find("<PartNumber>10<"));
  EXPECT_TRUE(contains(x, "</CompleteMultipartUpload>")) << x;
  EXPECT_FALSE(contains(x, "Checksum")) << x;
}

TEST(S3Xml, BuildCompleteMultipartCarriesEachPartsCrc32c) {
  const std::string x =
      build_complete_multipart({{1, "\"a\"", "yZRlqg=="}, {2, "\"b\"", "AAAAAA=="}});
  EXPECT_TRUE(contains(x,
                       "<Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag>"
                       "<ChecksumCRC32C>yZRlqg==</ChecksumCRC32C></Part>"))
      << x;
  EXPECT_TRUE(contains(x,
                       "<PartNumber>2</PartNumber><ETag>&quot;b&quot;</ETag><ChecksumCRC32C>"
                       "AAAAAA==</ChecksumCRC32C>"))
      << x;
}

TEST(S3Xml, BuildCreateBucket) {
  EXPECT_EQ(build_create_bucket("us-east-1"), "");
  EXPECT_EQ(build_create_bucket(""), "");
  const std::string x = build_create_bucket("eu-west-1");
  EXPECT_TRUE(contains(x, "<CreateBucketConfiguration")) << x;
  EXPECT_TRUE(contains(x, "<LocationConstraint>eu-west-1</LocationConstraint>")) << x;
  EXPECT_TRUE(contains(x, "</CreateBucketConfiguration>")) << x;
}

// ---- url_decode ----

TEST(S3Xml, UrlDecode) {
  EXPECT_EQ(url_decode(""), "");
  EXPECT_EQ(url_decode("plain/key"), "plain/key");
  EXPECT_EQ(url_decode("a+b"), "a b");
  EXPECT_EQ(url_decode("a%2Bb"), "a+b");
  EXPECT_EQ(url_decode("a%2bb"), "a+b");  // lower-case hex
  EXPECT_EQ(url_decode("%20%25%2F"), " %/");
  EXPECT_EQ(url_decode("%C3%BC"), "\xC3\xBC");
  EXPECT_EQ(url_decode("%41"), "A");  // escape at the very end
  EXPECT_EQ(url_decode("%00x"), std::string("\0x", 2));
}

TEST(S3Xml, UrlDecodeKeepsInvalidEscapesLiterally) {
  EXPECT_EQ(url_decode("100%"), "100%");
  EXPECT_EQ(url_decode("%"), "%");
  EXPECT_EQ(url_decode("a%4"), "a%4");
  EXPECT_EQ(url_decode("%zz"), "%zz");
  EXPECT_EQ(url_decode("%4g1"), "%4g1");
  EXPECT_EQ(url_decode("%%41"), "%A");
}

// The x-amz-checksum-crc32c encoding: big-endian bytes in base64, checked on the standard vector.
TEST(S3Xml, Crc32cHeaderValueIsBigEndianBase64) {
  EXPECT_EQ(crc32c(std::string_view("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c_b64(0xE3069283u), "4waSgw==");  // E3 06 92 83
  EXPECT_EQ(crc32c_b64(0), "AAAAAA==");
}

// The COMPOSITE checksum is the CRC32C of the parts' big-endian CRCs, suffixed with the count.
TEST(S3Xml, CompositeCrc32cOfParts) {
  const std::uint32_t a = crc32c(std::string_view("part one")), b = crc32c(std::string_view("two"));
  std::string be;
  for (std::uint32_t c : {a, b}) {
    for (int shift : {24, 16, 8, 0}) be.push_back(static_cast<char>((c >> shift) & 0xff));
  }
  EXPECT_EQ(composite_crc32c_b64({a, b}), crc32c_b64(crc32c(be)) + "-2");
  EXPECT_EQ(composite_crc32c_b64({a}), crc32c_b64(crc32c(be.substr(0, 4))) + "-1");
}

}  // namespace
}  // namespace omnio::s3
