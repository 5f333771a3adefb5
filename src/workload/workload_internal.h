// Shared by the put and get workload runners: wall and CPU time of a run.
#pragma once

#include <chrono>
#include <cstdint>

#include "omnio/workload.h"

namespace omnio::workload_internal {

/// A point in wall time and in the process's CPU time.
struct Usage {
  std::chrono::steady_clock::time_point wall;
  double user_seconds = 0;
  double system_seconds = 0;
};

/// Now, with getrusage(RUSAGE_SELF).
Usage usage_now();

/// Fills the report's time, CPU, bytes and object count from `start` to now.
void finish(WorkloadReport& report, const Usage& start, std::uint64_t bytes);

}  // namespace omnio::workload_internal
