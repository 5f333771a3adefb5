#include "omnio/log.h"

#include <atomic>
#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "omnio/constants.h"
#include "omnio/env.h"

namespace omnio::log {
namespace {

spdlog::level::level_enum to_spd(Level l) {
  switch (l) {
    case Level::kTrace: return spdlog::level::trace;
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
    case Level::kOff: return spdlog::level::off;
  }
  return spdlog::level::warn;
}

Level initial_level() {
  Level l = Level::kWarn;
  parse_level(kDefaultLogLevel, &l);
  if (auto v = env::get("OMNIO_LOG_LEVEL")) {
    Level parsed;
    if (parse_level(*v, &parsed)) l = parsed;
  }
  return l;
}

std::atomic<Level>& current() {
  static std::atomic<Level> level{initial_level()};
  return level;
}

spdlog::logger& logger() {
  // Synchronous stderr sink with its own mutex: logging never blocks an I/O path on a queue.
  static std::shared_ptr<spdlog::logger> l = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto lg = std::make_shared<spdlog::logger>("omnio", sink);
    lg->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ [%t] %v", spdlog::pattern_time_type::utc);
    lg->set_level(spdlog::level::trace);
    return lg;
  }();
  return *l;
}

}  // namespace

void set_level(Level level) { current().store(level); }

bool parse_level(std::string_view name, Level* out) {
  struct Pair {
    std::string_view name;
    Level level;
  };
  static constexpr Pair kPairs[] = {{"trace", Level::kTrace}, {"debug", Level::kDebug},
                                    {"info", Level::kInfo},   {"warn", Level::kWarn},
                                    {"warning", Level::kWarn}, {"error", Level::kError},
                                    {"off", Level::kOff}};
  for (const auto& p : kPairs) {
    if (p.name == name) {
      *out = p.level;
      return true;
    }
  }
  return false;
}

bool enabled(Level level) {
  return level != Level::kOff && static_cast<int>(level) >= static_cast<int>(current().load());
}

void write(Level level, std::string_view message) {
  logger().log(to_spd(level), "{}", message);
}

}  // namespace omnio::log
