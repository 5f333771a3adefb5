// Logging through spdlog, behind functions so spdlog stays a private dependency. The level comes
// from OMNIO_LOG_LEVEL (trace, debug, info, warn, error, off), overridden by the CLI's -v flags.
#pragma once

#include <string_view>

#include <fmt/format.h>

namespace omnio::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

/// Sets the level (thread-safe).
void set_level(Level level);
/// Parses "debug" etc.; nullopt-like false on an unknown name.
bool parse_level(std::string_view name, Level* out);
bool enabled(Level level);
/// Writes one line to stderr.
void write(Level level, std::string_view message);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kDebug)) write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kInfo)) write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kWarn)) write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kError)) write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace omnio::log
