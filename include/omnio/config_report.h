// Config that explains itself: the effective configuration of the store a URI selects, each value
// with where it came from, and one cheap request that shows whether the endpoint and credentials
// work (`omnio config show`, `omnio doctor`).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "omnio/config.h"
#include "omnio/result.h"

namespace omnio {

/// One effective setting. Secrets never appear: credentials are described by their source and a
/// masked key id.
struct ConfigEntry {
  std::string key;     ///< "s3.endpoint", "http.connect_timeout", "log_level"
  std::string value;   ///< "http://127.0.0.1:7480", "10000 ms"
  std::string source;  ///< "config" (set by the caller / a CLI flag), "env AWS_REGION",
                       ///< "profile default (~/.aws/config)", "default", ...
};

/// The settings of the store `uri` selects (s3://, az://, gs://, file://, direct://) followed by
/// the process-wide knobs (log level, I/O threads, loader defaults). Resolves endpoints and
/// credentials the way the store would (files and environment, no network request). Errors: an
/// unknown scheme, or what resolving the store's settings reports (a malformed endpoint, ...).
Result<std::vector<ConfigEntry>> describe_config(std::string_view uri, const Config& config);

/// What probe_store() did and how long it took.
struct ProbeResult {
  std::string request;  ///< "LIST s3://bucket/ (max 1 key)"
  double seconds = 0;
};

/// One cheap request to the store `uri` selects, with the configured retries: a one-key listing
/// of the URI's bucket/container and prefix (network stores), or a stat of the path (local). The
/// error, when there is one, carries the ErrorDetail of the failure (status, service code, request
/// id, endpoint, transport cause). A bare scheme ("s3://") lists nothing and only resolves.
Result<ProbeResult> probe_store(std::string_view uri, const Config& config);

}  // namespace omnio
