#include "http/status.h"

#include <fmt/format.h>

namespace omnio::http {

ErrorCode error_code_for_status(int status) {
  switch (status) {
    case 400:
      return ErrorCode::kInvalidArgument;
    case 401:
      return ErrorCode::kUnauthenticated;
    case 403:
      return ErrorCode::kPermissionDenied;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kAlreadyExists;
    case 412:
      return ErrorCode::kDataLoss;
    case 416:
      return ErrorCode::kOutOfRange;
    case 429:
      return ErrorCode::kResourceExhausted;
    case 501:
      return ErrorCode::kUnimplemented;
    default:
      return status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInternal;
  }
}

Error service_error(ErrorCode code, const std::string& what, const std::string& detail,
                    ServiceAnswer a) {
  std::string msg = a.request_id.empty()
                        ? fmt::format("{}: {} (endpoint {})", what, detail, a.endpoint)
                        : fmt::format("{}: {} (request id {}, endpoint {})", what, detail,
                                      a.request_id, a.endpoint);
  ErrorDetail d;
  d.service_code = std::move(a.service_code);
  d.request_id = std::move(a.request_id);
  d.endpoint = std::move(a.endpoint);
  d.throttled = a.throttled;
  Error e(code, std::move(msg));
  e.with_http_status(a.status).with_detail(std::move(d));
  return e;
}

}  // namespace omnio::http
