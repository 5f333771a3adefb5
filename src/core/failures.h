// How batch operations name their failures in one error message: the first few, then a count.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace omnio {

/// Failures named in one message before "... (N more)".
inline constexpr std::size_t kFailuresNamed = 10;

/// "a<sep>b<sep>...<sep>... (N more)": the first kFailuresNamed entries of `failed`.
std::string name_failures(const std::vector<std::string>& failed, std::string_view sep = "; ");

}  // namespace omnio
