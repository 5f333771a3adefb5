// Where an s3:// store's endpoint, region and credentials come from, in the order the AWS CLI uses:
// explicit S3Config > environment > shared files (profile) > default. No network request is made:
// instance metadata is not consulted (see docs/CONFIGURATION.md).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "backends/s3/sigv4.h"
#include "omnio/result.h"
#include "omnio/s3_config.h"

namespace omnio::s3 {

/// Endpoint, region and credentials of a store, with where each came from.
struct Resolved {
  /// "http://127.0.0.1:7480" (no trailing slash, no path).
  std::string endpoint;
  /// "http" or "https".
  std::string endpoint_scheme;
  /// "127.0.0.1:7480" (port only when given).
  std::string endpoint_host;
  /// True when the endpoint was configured (not AWS's default).
  bool custom_endpoint = false;
  std::string region;
  Credentials credentials;
  /// "config", "env", "shared credentials file /root/.aws/credentials [default]", ... or "none".
  std::string credentials_source;
  std::string endpoint_source;
  std::string region_source;
  std::string ca_bundle;
  /// Why there are no credentials (set when credentials_source == "none").
  std::string missing_credentials_hint;
};

/// INI sections of an AWS shared file: section name -> key -> value. Indented lines (nested
/// service sections) are ignored; comments start with '#' or ';'.
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
IniFile parse_ini(std::string_view text);

/// Resolves everything for `config`. Errors: a malformed endpoint, an explicitly chosen profile
/// that exists in neither file.
Result<Resolved> resolve(const S3Config& config);

}  // namespace omnio::s3
