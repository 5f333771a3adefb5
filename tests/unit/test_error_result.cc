#include <gtest/gtest.h>

#include <cerrno>
#include <memory>

#include "omnio/result.h"

namespace omnio {
namespace {

Result<int> half(int x) {
  if (x % 2) return Error(ErrorCode::kInvalidArgument, "odd");
  return x / 2;
}

Result<int> quarter(int x) {
  OMNIO_ASSIGN_OR_RETURN(int h, half(x));
  OMNIO_ASSIGN_OR_RETURN(int q, half(h));
  return q;
}

Status check(int x) {
  OMNIO_TRY(half(x));
  return ok_status();
}

TEST(Result, ValueAndError) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(check(2).ok());
  EXPECT_FALSE(check(3).ok());
}

TEST(Result, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

TEST(Error, ChainReadsOuterToInner) {
  Error inner = errno_error(ENOENT, "open /x");
  Error outer = inner.wrap("GET file:///x");
  EXPECT_EQ(outer.code(), ErrorCode::kNotFound);
  ASSERT_NE(outer.cause(), nullptr);
  EXPECT_EQ(outer.cause()->sys_errno(), ENOENT);
  std::string s = outer.to_string();
  EXPECT_NE(s.find("[not_found] GET file:///x: open /x"), std::string::npos) << s;
  EXPECT_NE(s.find("errno 2"), std::string::npos) << s;
}

TEST(Error, HttpStatusInText) {
  Error e(ErrorCode::kUnavailable, "GET s3://b/k");
  e.with_http_status(503);
  EXPECT_NE(e.to_string().find("HTTP 503"), std::string::npos);
}

TEST(Error, ErrnoMapping) {
  EXPECT_EQ(error_code_from_errno(ENOENT), ErrorCode::kNotFound);
  EXPECT_EQ(error_code_from_errno(EACCES), ErrorCode::kPermissionDenied);
  EXPECT_EQ(error_code_from_errno(ENOSPC), ErrorCode::kResourceExhausted);
  EXPECT_EQ(error_code_from_errno(EEXIST), ErrorCode::kAlreadyExists);
  EXPECT_EQ(error_code_from_errno(EIO), ErrorCode::kDataLoss);
  EXPECT_EQ(error_code_name(ErrorCode::kDeadlineExceeded), "deadline_exceeded");
}

}  // namespace
}  // namespace omnio
