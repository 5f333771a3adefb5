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

/// OMNIO_* variables that are set but unknown, each with the closest known name when one is near
/// ("OMNIO_LOG_LEVLE (did you mean OMNIO_LOG_LEVEL?)").
std::vector<std::string> unknown_omnio_variables();

}  // namespace omnio::env
