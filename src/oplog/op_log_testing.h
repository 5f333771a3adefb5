// Test-only access to OpLog internals (tests include src/): pausing the writer makes queue-full
// behaviour deterministic without sleeps.
#pragma once

#include <cstddef>

#include "omnio/op_log.h"

namespace omnio {

struct OpLogTestAccess {
  /// While paused the writer takes nothing from the queue (close() still drains it).
  static void set_writer_paused(OpLog& log, bool paused);
  /// Records waiting in the queue.
  static std::size_t queued(OpLog& log);
};

}  // namespace omnio
