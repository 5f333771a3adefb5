#include "core/failures.h"

#include <fmt/format.h>

namespace omnio {

std::string name_failures(const std::vector<std::string>& failed, std::string_view sep) {
  std::string names;
  for (std::size_t i = 0; i < failed.size() && i < kFailuresNamed; ++i) {
    if (i) names += sep;
    names += failed[i];
  }
  if (failed.size() > kFailuresNamed)
    names += fmt::format("{}... ({} more)", sep, failed.size() - kFailuresNamed);
  return names;
}

}  // namespace omnio
