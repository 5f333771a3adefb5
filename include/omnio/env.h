// The environment variables omnio reads. This header's .cc is the ONLY place that calls getenv.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace omnio::env {

/// A variable omnio knows, with what it does (for `omnio config show` and docs).
struct KnownVariable {
  std::string_view name;
  std::string_view description;
};

/// Every variable omnio reads.
const std::vector<KnownVariable>& known_variables();

/// The value of a known variable, or nullopt when unset or empty. Asking for a name that is not in
/// known_variables() is a programming error (asserts), which keeps the list complete.
std::optional<std::string> get(std::string_view name);

/// A set variable omnio does not read that looks like a mistake.
struct SuspiciousVariable {
  std::string name;     ///< "OMNIO_LOG_LEVL"
  std::string nearest;  ///< the closest known name ("OMNIO_LOG_LEVEL"), or empty
  /// "OMNIO_LOG_LEVL is set but omnio does not read it (did you mean OMNIO_LOG_LEVEL?)"
  std::string message() const;
};

/// Set variables that look like mistakes, sorted by name: every unknown OMNIO_* variable (except
/// the project's scripts' OMNIO_TEST_*, OMNIO_BENCH_*, ...), and AWS_* / AZURE_* / GOOGLE_* /
/// GCS_* / ... variables within edit distance 2 of a known name (other tools read many names of
/// those families, so only near misses are reported).
std::vector<SuspiciousVariable> suspicious_variables();

/// OMNIO_* variables that are set but unknown, each with the closest known name when one is near
/// ("OMNIO_LOG_LEVLE (did you mean OMNIO_LOG_LEVEL?)").
std::vector<std::string> unknown_omnio_variables();

}  // namespace omnio::env
