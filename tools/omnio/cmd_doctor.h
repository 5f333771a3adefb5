// Explaining omnio to its user: `omnio doctor URI`, `omnio config show [URI]`, the start-up
// warnings about suspicious environment variables, and how a failed command's error is printed (one
// line, or with --json a JSON object carrying the error's structured detail).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli_util.h"
#include "omnio/error.h"
#include "omnio/result.h"

namespace omnio::cli {

/// The `doctor` and `config show` subcommands and their arguments.
struct DoctorCommands {
  CLI::App* doctor = nullptr;
  CLI::App* config = nullptr;
  CLI::App* config_show = nullptr;
  std::string doctor_uri;
  std::string config_uri;
  /// True when one of them was chosen.
  bool selected() const;
};

/// Adds `doctor URI` and `config show [URI]` to the app.
void add_doctor_commands(CLI::App& app, DoctorCommands& d);
/// Runs the chosen one.
Status run_doctor_commands(const DoctorCommands& d, const Globals& g);

/// Prints each suspicious environment variable as one "omnio: warning: ..." line on stderr, unless
/// --quiet.
void warn_suspicious_variables(const Globals& g);

/// The error of a failed command on stderr: "omnio: error: <one line>", or with --json one JSON
/// object {"error": {"code", "message", "http_status", "service_code", "request_id", "endpoint",
/// "operation", "uri", "attempts", "max_attempts", "elapsed_seconds", "transport", "throttled"}}
/// (fields that are unknown are left out).
void print_error(const Error& e, const Globals& g);

}  // namespace omnio::cli
