#include "omnio/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace omnio {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kOutOfRange:
      return "out_of_range";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case ErrorCode::kResourceExhausted:
      return "resource_exhausted";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kDataLoss:
      return "data_loss";
    case ErrorCode::kUnimplemented:
      return "unimplemented";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string_view transport_cause_name(TransportCause cause) {
  switch (cause) {
    case TransportCause::kNone:
      return "none";
    case TransportCause::kDns:
      return "dns";
    case TransportCause::kConnectRefused:
      return "connect_refused";
    case TransportCause::kUnreachable:
      return "unreachable";
    case TransportCause::kConnectTimeout:
      return "connect_timeout";
    case TransportCause::kTls:
      return "tls";
    case TransportCause::kStallTimeout:
      return "stall_timeout";
    case TransportCause::kRequestTimeout:
      return "request_timeout";
    case TransportCause::kConnectionReset:
      return "connection_reset";
    case TransportCause::kOther:
      return "other";
  }
  return "unknown";
}

void ErrorDetail::fill_from(const ErrorDetail& o) {
  auto fill = [](std::string& mine, const std::string& theirs) {
    if (mine.empty()) mine = theirs;
  };
  fill(operation, o.operation);
  fill(uri, o.uri);
  fill(service_code, o.service_code);
  fill(request_id, o.request_id);
  fill(endpoint, o.endpoint);
  if (attempts == 0) attempts = o.attempts;
  if (max_attempts == 0) max_attempts = o.max_attempts;
  if (elapsed_seconds < 0) elapsed_seconds = o.elapsed_seconds;
  if (transport == TransportCause::kNone) transport = o.transport;
  throttled = throttled || o.throttled;
}

Error& Error::with_detail(ErrorDetail d) {
  if (detail_) d.fill_from(*detail_);
  detail_ = std::make_shared<const ErrorDetail>(std::move(d));
  return *this;
}

ErrorDetail Error::details() const {
  ErrorDetail out;
  for (const Error* e = this; e != nullptr; e = e->cause_.get()) {
    if (e->detail_) out.fill_from(*e->detail_);
  }
  return out;
}

int Error::chain_http_status() const {
  for (const Error* e = this; e != nullptr; e = e->cause_.get()) {
    if (e->http_status_ != 0) return e->http_status_;
  }
  return 0;
}

Error Error::wrap(std::string context) const {
  Error outer(code_, std::move(context));
  outer.cause_ = std::make_shared<Error>(*this);
  return outer;
}

std::string Error::to_string() const {
  std::string out = fmt::format("[{}] ", error_code_name(code_));
  const Error* e = this;
  bool first = true;
  while (e != nullptr) {
    if (!first) out += ": ";
    first = false;
    out += e->message_;
    if (e->errno_ != 0) out += fmt::format(" (errno {}: {})", e->errno_, std::strerror(e->errno_));
    if (e->http_status_ != 0) out += fmt::format(" (HTTP {})", e->http_status_);
    e = e->cause_.get();
  }
  return out;
}

ErrorCode error_code_from_errno(int e) {
  switch (e) {
    case 0:
      return ErrorCode::kOk;
    case ENOENT:
    case ENOTDIR:
      return ErrorCode::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return ErrorCode::kPermissionDenied;
    case EEXIST:
    case ENOTEMPTY:
      return ErrorCode::kAlreadyExists;
    case EINVAL:
    case EISDIR:
    case ENAMETOOLONG:
    case EBADF:
      return ErrorCode::kInvalidArgument;
    case ENOSPC:
    case EDQUOT:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case EFBIG:
      return ErrorCode::kResourceExhausted;
    case ETIMEDOUT:
      return ErrorCode::kDeadlineExceeded;
    case EAGAIN:
    case EBUSY:
    case EINTR:
    case ECONNRESET:
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
      return ErrorCode::kUnavailable;
    case ECANCELED:
      return ErrorCode::kCancelled;
    case EIO:
      return ErrorCode::kDataLoss;
    case ENOSYS:
    case EOPNOTSUPP:
      return ErrorCode::kUnimplemented;
    default:
      return ErrorCode::kInternal;
  }
}

Error errno_error(int e, std::string what) {
  Error err(error_code_from_errno(e), std::move(what));
  err.with_errno(e);
  return err;
}

}  // namespace omnio
