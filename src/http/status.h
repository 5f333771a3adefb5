// The ErrorCode of an HTTP error status, shared by every object-store backend. Each backend then
// refines only what depends on its service's error code (auth codes, throttling, conflicts).
#pragma once

#include <string>

#include "omnio/error.h"

namespace omnio::http {

/// 400 invalid_argument, 401 unauthenticated, 403 permission_denied, 404 not_found,
/// 409 already_exists, 412 data_loss (a precondition on a read means the object changed),
/// 416 out_of_range, 429 resource_exhausted, 501 unimplemented, other 5xx unavailable,
/// other statuses internal.
ErrorCode error_code_for_status(int status);

/// The error of a service's answer, as every backend builds it: "<what>: <detail> (request id R,
/// endpoint E)" with the HTTP status and an ErrorDetail (service code, request id, endpoint,
/// throttled). `request_id` may be empty (the service sent none).
struct ServiceAnswer {
  int status = 0;
  std::string service_code;
  std::string request_id;
  std::string endpoint;
  bool throttled = false;
};
Error service_error(ErrorCode code, const std::string& what, const std::string& detail,
                    ServiceAnswer answer);

}  // namespace omnio::http
