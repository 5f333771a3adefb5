// Key lists (include/omnio/key_list.h): every accepted line form, relative keys, directory lines
// skipped, and bad lines rejected with the file name and line number; the streaming reader; the
// loader's Dataset::from_key_list keeping ls --json sizes.
#include <gtest/gtest.h>

#include <fstream>

#include "local_test_util.h"
#include "omnio/key_list.h"
#include "omnio/loader.h"

namespace omnio {
namespace {

using testutil::TempDir;

std::string write(const TempDir& d, const std::string& name, const std::string& text) {
  std::ofstream(d.file(name)) << text;
  return d.file(name);
}

TEST(KeyList, AcceptsEveryLineForm) {
  auto r = parse_key_list(
      "{\"uri\":\"s3://b/train/a\",\"size\":12,\"is_dir\":false}\n"
      "{\"uri\":\"s3://b/train/sub/\",\"size\":0,\"is_dir\":true}\n"
      "  s3://b/train/b  \r\n"
      "\n# a comment\n"
      "/data/c\n"
      "d/e\n"
      "{\"key\":\"f\"}\n"
      "s3://b/train/dir/\n",
      "keys.txt", "s3://b/train/");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].uri, "s3://b/train/a");
  EXPECT_EQ((*r)[0].size, 12u);
  EXPECT_EQ((*r)[1].uri, "s3://b/train/b");
  EXPECT_FALSE((*r)[1].size.has_value());
  EXPECT_EQ((*r)[2].uri, "file:///data/c");
  EXPECT_EQ((*r)[3].uri, "s3://b/train/d/e");
  EXPECT_EQ((*r)[4].uri, "s3://b/train/f");
}

// Each bad line: the error is kInvalidArgument and names the file, the line number and the cause.
TEST(KeyList, BadLinesNameFileAndLine) {
  struct Case {
    std::string text, why;
  } cases[] = {
      {"s3://b/a\n\nrelative\n", "relative key"},
      {"s3://b/a\n{\"uri\": \"s3://b/x\"\n", "not valid JSON"},
      {"s3://b/a\n{\"size\": 3}\n", "no non-empty string \"uri\" or \"key\""},
      {"s3://b/a\n{\"uri\":\"s3://b/x\",\"size\":-1}\n", "\"size\" must be"},
      {"s3://b/a\n{\"uri\":\"not-a-uri\"}\n", "is not a URI"},
      {"s3://b/a\nftp://host/x\n", "ftp://host/x"},
  };
  for (const auto& c : cases) {
    auto r = parse_key_list(c.text, "my-keys.jsonl");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    const std::string m = r.error().to_string();
    EXPECT_NE(m.find("my-keys.jsonl"), std::string::npos) << m;
    const std::string line = c.text.find("\n\n") != std::string::npos ? "line 3" : "line 2";
    EXPECT_NE(m.find(line), std::string::npos) << m;
    EXPECT_NE(m.find(c.why), std::string::npos) << m;
  }
}

TEST(KeyList, OverlongLineIsAnError) {
  std::string text = "s3://b/" + std::string(kMaxKeyListLineBytes + 10, 'x') + "\n";
  auto r = parse_key_list(text, "k");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().to_string().find("line 1"), std::string::npos);
}

TEST(KeyList, ReaderStreamsAndReportsLines) {
  TempDir d;
  const std::string p = write(d, "k.txt", "file:///a\n\n# c\nfile:///b\nbad\n");
  auto r = KeyListReader::open(p);
  ASSERT_TRUE(r.ok());
  auto a = r->next();
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->uri, "file:///a");
  auto b = r->next();
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->uri, "file:///b");
  EXPECT_EQ(r->line(), 4u);
  auto c = r->next();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().to_string().find(p + "' line 5"), std::string::npos) << c.error().to_string();
}

TEST(KeyList, MissingAndEmptyFiles) {
  TempDir d;
  auto missing = read_key_list(d.file("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().to_string().find("nope"), std::string::npos);
  auto empty = read_key_list(write(d, "e", "# nothing\n\n"));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(empty.error().to_string().find("lists no objects"), std::string::npos);
}

TEST(KeyList, DatasetKeepsListedSizes) {
  TempDir d;
  std::ofstream(d.file("a")) << "abc";
  std::ofstream(d.file("b")) << "hello";
  const std::string base = "file://" + d.path() + "/";
  auto sized = Dataset::from_key_list(
      write(d, "k.jsonl", "{\"key\":\"a\",\"size\":3}\n{\"uri\":\"" + base + "b\",\"size\":5}\n"),
      base);
  ASSERT_TRUE(sized.ok()) << sized.error().to_string();
  ASSERT_EQ(sized->size(), 2u);
  EXPECT_EQ(sized->keys()[0], base + "a");
  EXPECT_EQ(sized->listed_size(1), 5u);
  // One line without a size: sizes are unknown for all (never a guess).
  auto mixed = Dataset::from_key_list(write(d, "m", "a\nb\n{\"key\":\"a\",\"size\":3}\n"), base);
  ASSERT_TRUE(mixed.ok());
  EXPECT_FALSE(mixed->listed_size(0).has_value());
}

}  // namespace
}  // namespace omnio
