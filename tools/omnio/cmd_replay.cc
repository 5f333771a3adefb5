// --op-log (open before the command, finish after it or on SIGINT) and `omnio replay`.
#include <fmt/format.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "omnio/op_log.h"
#include "omnio/replay.h"

namespace omnio::cli {

Status start_op_log(const Globals& g) {
  if (g.op_log.empty()) return ok_status();
  OpLogOptions o;
  o.path = g.op_log;
  o.lossless = g.op_log_lossless;
  OMNIO_ASSIGN_OR_RETURN(auto log, OpLog::open(o));
  cli_config().op_log = log;
  // Ctrl-C while a command cannot stop (blocked on stdin): the log still ends as a complete file.
  set_interrupt_finisher([log] { (void)log->close(); });
  return ok_status();
}

Status finish_op_log(const Globals& g) {
  auto log = cli_config().op_log;
  if (log == nullptr) return ok_status();
  Status s = log->close();
  set_interrupt_finisher(nullptr);
  if (log->dropped() > 0) {
    fmt::print(stderr,
               "omnio: warning: op-log {}: {} records dropped (the writer fell behind; "
               "--op-log-lossless waits instead)\n",
               log->path(), log->dropped());
  } else if (!g.quiet && !g.json) {
    fmt::print(stderr, "op-log: {} records in {}\n", log->written(), log->path());
  }
  return s;
}

namespace {

std::vector<std::string> split_ops(const std::string& list) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : list + ",") {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }

void print_report(const ReplayReport& r, const Globals& g) {
  if (g.json) {
    nlohmann::json ops = nlohmann::json::object();
    for (const auto& [op, s] : r.ops) {
      ops[op] = {{"count", s.count},
                 {"errors", s.errors},
                 {"expected_errors", s.expected_errors},
                 {"bytes", s.bytes},
                 {"logged_bytes", s.logged_bytes}};
    }
    nlohmann::json j{{"op", "replay"},
                     {"ops", ops},
                     {"filtered", r.filtered},
                     {"skipped", r.skipped},
                     {"source_prefix", r.source_prefix},
                     {"target_prefix", r.target_prefix},
                     {"scheduled_span_ns", r.scheduled_span_ns},
                     {"actual_span_ns", r.actual_span_ns},
                     {"drift_mean_ns", r.drift_mean_ns},
                     {"drift_p50_ns", r.drift_p50_ns},
                     {"drift_p99_ns", r.drift_p99_ns},
                     {"drift_max_ns", r.drift_max_ns}};
    if (r.log_dropped) j["log_dropped"] = *r.log_dropped;
    print_line(j.dump());
    return;
  }
  if (!r.source_prefix.empty() || !r.target_prefix.empty()) {
    print_line(fmt::format("retarget: {} -> {}", r.source_prefix, r.target_prefix));
  }
  print_line(fmt::format("{:<18} {:>10} {:>8} {:>9} {:>16} {:>16}", "op", "count", "errors",
                         "expected", "bytes", "logged_bytes"));
  for (const auto& [op, s] : r.ops) {
    print_line(fmt::format("{:<18} {:>10} {:>8} {:>9} {:>16} {:>16}", op, s.count, s.errors,
                           s.expected_errors, s.bytes, s.logged_bytes));
  }
  if (r.filtered > 0 || r.skipped > 0) {
    print_line(fmt::format("filtered out: {}, skipped (COPY/RENAME/LIST_CONTAINERS): {}",
                           r.filtered, r.skipped));
  }
  print_line(
      fmt::format("timing: log span {:.3f} ms at this speed, replay span {:.3f} ms; start "
                  "drift mean {:.3f} ms, p50 {:.3f} ms, p99 {:.3f} ms, max {:.3f} ms",
                  ms(r.scheduled_span_ns), ms(r.actual_span_ns), ms(r.drift_mean_ns),
                  ms(r.drift_p50_ns), ms(r.drift_p99_ns), ms(r.drift_max_ns)));
  if (!r.log_records) {
    print_line("note: the log has no trailer (the recording process did not finish it)");
  } else if (*r.log_dropped > 0) {
    print_line(fmt::format("note: the recording dropped {} records", *r.log_dropped));
  }
  for (const auto& f : r.failures) print_line("failed: " + f);
}

}  // namespace

Status cmd_replay(const ReplayArgs& a, const Globals& g) {
  ReplayOptions o;
  o.log_path = a.log;
  if (!a.target.empty()) {
    OMNIO_ASSIGN_OR_RETURN(o.target, to_uri(a.target));
  }
  if (!a.source.empty()) {
    OMNIO_ASSIGN_OR_RETURN(o.source, to_uri(a.source));
  }
  o.speed = a.speed;
  o.continue_on_error = a.continue_on_error;
  o.ops = split_ops(a.ops);
  if (a.jobs != 0) o.concurrency = a.jobs;
  o.seed = a.seed;
  o.config = cli_config();
  o.cancel = interrupt_token();
  OMNIO_ASSIGN_OR_RETURN(ReplayReport r, replay(o));
  print_report(r, g);
  if (r.total_errors() > 0) {
    return r.first_failure->wrap(
        fmt::format("replay: {} of {} operations failed", r.total_errors(), r.total_ops()));
  }
  return ok_status();
}

}  // namespace omnio::cli
