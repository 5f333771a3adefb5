// omnio::Error: a typed error code, a message, the errno / HTTP status when there is one, and the
// cause chain. Errors are values: nothing in omnio's public API throws.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace omnio {

/// What kind of failure an Error is; callers branch on this, never on message text.
enum class ErrorCode {
  kOk = 0,
  kNotFound,          ///< The object, file or container does not exist.
  kInvalidArgument,   ///< Bad input from the caller (malformed URI, bad option, unsafe key).
  kOutOfRange,        ///< An offset beyond the end of an object.
  kPermissionDenied,  ///< Authenticated but not allowed (EACCES, HTTP 403).
  kUnauthenticated,   ///< No or bad credentials (HTTP 401).
  kAlreadyExists,     ///< The target exists and the operation would not overwrite it.
  kUnavailable,       ///< Transient failure (connection reset, 503); retryable.
  kDeadlineExceeded,  ///< A timeout elapsed.
  kResourceExhausted, ///< Out of space, memory budget, or throttled (429/SlowDown).
  kCancelled,         ///< A CancellationToken fired.
  kDataLoss,          ///< Short read, checksum mismatch, truncated object: the data is not what it should be.
  kUnimplemented,     ///< The operation or backend is not built.
  kInternal,          ///< A bug or an unexpected state.
};

/// Stable lower-case name of a code ("not_found"), used in messages and --json output.
std::string_view error_code_name(ErrorCode code);

/// A failure: code, message, optional errno / HTTP status, and the error that caused it.
class Error {
 public:
  Error() = default;
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  /// errno of the failing system call, 0 when none.
  int sys_errno() const { return errno_; }
  /// HTTP status of the failing response, 0 when none.
  int http_status() const { return http_status_; }
  /// The error this one wraps, or nullptr.
  const Error* cause() const { return cause_.get(); }

  Error& with_errno(int e) {
    errno_ = e;
    return *this;
  }
  Error& with_http_status(int s) {
    http_status_ = s;
    return *this;
  }
  Error& with_cause(Error cause) {
    cause_ = std::make_shared<Error>(std::move(cause));
    return *this;
  }
  /// A new error with the same code that says `context` and keeps this one as its cause, so the
  /// chain reads "GET s3://b/k bytes=0-99: connection reset".
  Error wrap(std::string context) const;

  /// One line: "<context>: <message>: <cause message>..." with errno text and HTTP status.
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kInternal;
  std::string message_;
  int errno_ = 0;
  int http_status_ = 0;
  std::shared_ptr<const Error> cause_;
};

/// Maps an errno value to the ErrorCode a caller should see (ENOENT -> kNotFound, ...).
ErrorCode error_code_from_errno(int e);
/// An Error for a failed system call: "<what>: <strerror>" with the errno attached.
Error errno_error(int e, std::string what);

}  // namespace omnio
