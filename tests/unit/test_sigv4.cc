// SigV4 against AWS's published examples (S3 API reference, "Signature calculations for the
// Authorization header: transferring payload in a single chunk", and the SigV4 test suite).
#include <gtest/gtest.h>

#include "backends/s3/sigv4.h"

namespace omnio::s3 {
namespace {

const Credentials kS3DocCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                              ""};
const std::string kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(SigV4, S3DocGetObjectRange) {
  SigningInput in;
  in.method = "GET";
  in.path = "/test.txt";
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"Range", "bytes=0-9"},
                {"x-amz-content-sha256", kEmptySha},
                {"x-amz-date", "20130524T000000Z"}};
  in.payload_hash = kEmptySha;
  in.amz_date = "20130524T000000Z";
  in.region = "us-east-1";
  Signature s = sign_v4(in, kS3DocCreds);
  EXPECT_EQ(sha256_hex(s.canonical_request),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3DocPutObject) {
  const std::string body = "Welcome to Amazon S3.";
  SigningInput in;
  in.method = "PUT";
  in.path = "/" + uri_encode("test$file.text", false);
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                {"x-amz-date", "20130524T000000Z"},
                {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                {"x-amz-content-sha256", sha256_hex(body)}};
  in.payload_hash = sha256_hex(body);
  in.amz_date = "20130524T000000Z";
  in.region = "us-east-1";
  EXPECT_EQ(in.payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(sign_v4(in, kS3DocCreds).signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, S3DocGetBucketLifecycle) {
  SigningInput in;
  in.method = "GET";
  in.path = "/";
  in.query = {{"lifecycle", ""}};
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"x-amz-date", "20130524T000000Z"},
                {"x-amz-content-sha256", kEmptySha}};
  in.payload_hash = kEmptySha;
  in.amz_date = "20130524T000000Z";
  in.region = "us-east-1";
  EXPECT_EQ(sign_v4(in, kS3DocCreds).signature,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, S3DocListObjects) {
  SigningInput in;
  in.method = "GET";
  in.path = "/";
  in.query = {{"max-keys", "2"}, {"prefix", "J"}};
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"x-amz-date", "20130524T000000Z"},
                {"x-amz-content-sha256", kEmptySha}};
  in.payload_hash = kEmptySha;
  in.amz_date = "20130524T000000Z";
  in.region = "us-east-1";
  EXPECT_EQ(sign_v4(in, kS3DocCreds).signature,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, TestSuiteGetVanilla) {
  SigningInput in;
  in.method = "GET";
  in.path = "/";
  in.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  in.payload_hash = kEmptySha;
  in.amz_date = "20150830T123600Z";
  in.region = "us-east-1";
  in.service = "service";
  Credentials c{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  EXPECT_EQ(sign_v4(in, c).signature,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, UriEncode) {
  EXPECT_EQ(uri_encode("a b/c+d%é", false), "a%20b/c%2Bd%25%C3%A9");
  EXPECT_EQ(uri_encode("a/b", true), "a%2Fb");
  EXPECT_EQ(uri_encode("AZaz09-_.~", true), "AZaz09-_.~");
}

}  // namespace
}  // namespace omnio::s3
