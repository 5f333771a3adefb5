// What every backend's error about a missing object must carry (docs/OPERATIONS.md, "Error
// anatomy"), checked the same way against radosgw/moto, Azurite and the GCS emulator.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "omnio/error.h"

namespace omnio::testing {

/// `e` is a not-found GET of `uri` answered by `endpoint` with HTTP 404 and `service_code` (empty:
/// not checked), made in one attempt, with the request id in the text when there is one (and a
/// request id required when `needs_request_id`).
inline void expect_explained_not_found(const Error& e, const std::string& endpoint,
                                       const std::string& uri, const std::string& service_code,
                                       bool needs_request_id) {
  const std::string text = e.to_string();
  EXPECT_EQ(e.code(), ErrorCode::kNotFound) << text;
  EXPECT_EQ(e.chain_http_status(), 404) << text;
  const ErrorDetail d = e.details();
  if (!service_code.empty()) {
    EXPECT_EQ(d.service_code, service_code) << text;
  }
  if (needs_request_id) {
    EXPECT_FALSE(d.request_id.empty()) << text;
  }
  if (!d.request_id.empty()) {
    EXPECT_NE(text.find(d.request_id), std::string::npos) << text;
  }
  EXPECT_EQ(d.endpoint, endpoint) << text;
  EXPECT_NE(text.find(endpoint), std::string::npos) << text;
  EXPECT_EQ(d.operation, "GET") << text;
  EXPECT_EQ(d.uri, uri) << text;
  EXPECT_EQ(d.attempts, 1) << text;
  EXPECT_EQ(d.transport, TransportCause::kNone) << text;
}

}  // namespace omnio::testing
