// ProcessBudget: sets the process-wide MemoryBudget for one test and puts the old limit back.
#pragma once

#include <cstdint>

#include "omnio/memory_budget.h"

namespace omnio::testutil {

class ProcessBudget {
 public:
  explicit ProcessBudget(std::uint64_t limit) : old_(MemoryBudget::process().limit()) {
    MemoryBudget::process().set_limit(limit);
    MemoryBudget::process().reset_stats();
  }
  ~ProcessBudget() { MemoryBudget::process().set_limit(old_); }
  ProcessBudget(const ProcessBudget&) = delete;
  ProcessBudget& operator=(const ProcessBudget&) = delete;

 private:
  std::uint64_t old_;
};

}  // namespace omnio::testutil
