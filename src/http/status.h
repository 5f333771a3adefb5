// The ErrorCode of an HTTP error status, shared by every object-store backend. Each backend then
// refines only what depends on its service's error code (auth codes, throttling, conflicts).
#pragma once

#include "omnio/error.h"

namespace omnio::http {

/// 400 invalid_argument, 401 unauthenticated, 403 permission_denied, 404 not_found,
/// 409 already_exists, 412 data_loss (a precondition on a read means the object changed),
/// 416 out_of_range, 429 resource_exhausted, 501 unimplemented, other 5xx unavailable,
/// other statuses internal.
ErrorCode error_code_for_status(int status);

}  // namespace omnio::http
