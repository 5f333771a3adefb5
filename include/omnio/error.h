// omnio::Error: a typed error code, a message, the errno / HTTP status when there is one, and the
// cause chain. Errors are values: nothing in omnio's public API throws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace omnio {

/// What kind of failure an Error is; callers branch on this, never on message text.
enum class ErrorCode {
  kOk = 0,
  kNotFound,           ///< The object, file or container does not exist.
  kInvalidArgument,    ///< Bad input from the caller (malformed URI, bad option, unsafe key).
  kOutOfRange,         ///< An offset beyond the end of an object.
  kPermissionDenied,   ///< Authenticated but not allowed (EACCES, HTTP 403).
  kUnauthenticated,    ///< No or bad credentials (HTTP 401).
  kAlreadyExists,      ///< The target exists and the operation would not overwrite it.
  kUnavailable,        ///< Transient failure (connection reset, 503); retryable.
  kDeadlineExceeded,   ///< A timeout elapsed.
  kResourceExhausted,  ///< Out of space, memory budget, or throttled (429/SlowDown).
  kCancelled,          ///< A CancellationToken fired.
  kDataLoss,  ///< Short read, checksum mismatch, truncated object: the data is not what it should
              ///< be.
  kUnimplemented,  ///< The operation or backend is not built.
  kInternal,       ///< A bug or an unexpected state.
};

/// Stable lower-case name of a code ("not_found"), used in messages and --json output.
std::string_view error_code_name(ErrorCode code);

/// Why a request never got an HTTP answer (or lost it): the transport layer's verdict.
enum class TransportCause : std::uint8_t {
  kNone = 0,         ///< Not a transport failure (an HTTP answer, or no network involved).
  kDns,              ///< The host name did not resolve.
  kConnectRefused,   ///< Nothing listens there (ECONNREFUSED).
  kUnreachable,      ///< No route to the host or network.
  kConnectTimeout,   ///< TCP/TLS connect did not finish within the connect timeout.
  kTls,              ///< TLS handshake or certificate verification failed.
  kStallTimeout,     ///< No byte moved for the stall timeout.
  kRequestTimeout,   ///< The whole-request timeout elapsed.
  kConnectionReset,  ///< The connection broke (reset, closed early, nothing received).
  kOther,            ///< Another transport failure (the message has libcurl's words).
};

/// Stable lower-case name ("connect_refused"), used in --json output.
std::string_view transport_cause_name(TransportCause cause);

/// Structured facts about a remote failure, for programs (and --json) rather than people. Every
/// field is optional (empty / 0 / -1 = unknown). Attached only to failures: the success path never
/// allocates one.
struct ErrorDetail {
  std::string operation;        ///< "GET", "PUT", "LIST", "DELETE", ...
  std::string uri;              ///< "s3://bucket/key"
  std::string service_code;     ///< The service's own code: "SlowDown", "NoSuchKey", "BlobNotFound"
  std::string request_id;       ///< x-amz-request-id / x-ms-request-id / x-guploader-uploadid
  std::string endpoint;         ///< "http://127.0.0.1:7480"
  int attempts = 0;             ///< Attempts made (1 = no retry).
  int max_attempts = 0;         ///< Attempts the retry policy allowed.
  double elapsed_seconds = -1;  ///< From the first attempt to the final failure.
  TransportCause transport = TransportCause::kNone;
  bool throttled = false;  ///< The service asked us to slow down (503 SlowDown, 429, ServerBusy).

  /// Fills each field that is unknown here from `other`.
  void fill_from(const ErrorDetail& other);
};

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
  /// This error's own structured detail, or nullptr.
  const ErrorDetail* detail() const { return detail_.get(); }
  /// The detail of the whole chain: each field from the outermost error that knows it.
  ErrorDetail details() const;
  /// The first non-zero HTTP status along the chain, 0 when none.
  int chain_http_status() const;

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
  /// Sets the structured detail; fields unknown in `d` keep what this error already had.
  Error& with_detail(ErrorDetail d);
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
  std::shared_ptr<const ErrorDetail> detail_;
};

/// Maps an errno value to the ErrorCode a caller should see (ENOENT -> kNotFound, ...).
ErrorCode error_code_from_errno(int e);
/// An Error for a failed system call: "<what>: <strerror>" with the errno attached.
Error errno_error(int e, std::string what);

}  // namespace omnio
