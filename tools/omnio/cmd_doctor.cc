// doctor, config show, start-up warnings, and error printing (see cmd_doctor.h).
#include "cmd_doctor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "omnio/config_report.h"
#include "omnio/env.h"

namespace omnio::cli {
namespace {

nlohmann::json error_json(const Error& e) {
  nlohmann::json j{{"code", std::string(error_code_name(e.code()))}, {"message", e.to_string()}};
  if (int s = e.chain_http_status(); s != 0) j["http_status"] = s;
  const ErrorDetail d = e.details();
  auto put = [&](const char* k, const std::string& v) {
    if (!v.empty()) j[k] = v;
  };
  put("operation", d.operation);
  put("uri", d.uri);
  put("service_code", d.service_code);
  put("request_id", d.request_id);
  put("endpoint", d.endpoint);
  if (d.attempts > 0) j["attempts"] = d.attempts;
  if (d.max_attempts > 0) j["max_attempts"] = d.max_attempts;
  if (d.elapsed_seconds >= 0) j["elapsed_seconds"] = d.elapsed_seconds;
  if (d.transport != TransportCause::kNone)
    j["transport"] = std::string(transport_cause_name(d.transport));
  if (d.throttled) j["throttled"] = true;
  return j;
}

// The detail of an error as "  name: value" lines for people (doctor).
std::vector<std::pair<std::string, std::string>> error_lines(const Error& e) {
  std::vector<std::pair<std::string, std::string>> out;
  const ErrorDetail d = e.details();
  out.emplace_back("code", std::string(error_code_name(e.code())));
  if (int s = e.chain_http_status(); s != 0) out.emplace_back("http status", std::to_string(s));
  if (!d.service_code.empty()) out.emplace_back("service code", d.service_code);
  if (!d.request_id.empty()) out.emplace_back("request id", d.request_id);
  if (!d.endpoint.empty()) out.emplace_back("endpoint", d.endpoint);
  if (d.transport != TransportCause::kNone)
    out.emplace_back("transport", std::string(transport_cause_name(d.transport)));
  if (d.attempts > 0)
    out.emplace_back("attempts", fmt::format("{} of {}", d.attempts, d.max_attempts));
  if (d.elapsed_seconds >= 0)
    out.emplace_back("elapsed", fmt::format("{:.3f} s", d.elapsed_seconds));
  return out;
}

// In the CLI every explicit setting of the Config comes from a flag.
std::string cli_source(const std::string& s) { return s == "config" ? "flag" : s; }

// Prints the configuration report; returns the JSON form too.
Result<nlohmann::json> show_config(const std::string& uri, const Globals& g) {
  OMNIO_ASSIGN_OR_RETURN(auto entries, describe_config(uri, cli_config()));
  auto warnings = env::suspicious_variables();
  nlohmann::json j{{"uri", uri}};
  j["config"] = nlohmann::json::array();
  for (const auto& e : entries)
    j["config"].push_back({{"key", e.key}, {"value", e.value}, {"source", cli_source(e.source)}});
  j["warnings"] = nlohmann::json::array();
  for (const auto& w : warnings) {
    nlohmann::json wj{{"variable", w.name}, {"message", w.message()}};
    if (!w.nearest.empty()) wj["did_you_mean"] = w.nearest;
    j["warnings"].push_back(std::move(wj));
  }
  if (g.json) return j;
  std::size_t kw = 0, vw = 0;
  for (const auto& e : entries) {
    kw = std::max(kw, e.key.size());
    vw = std::max(vw, e.value.size());
  }
  vw = std::min<std::size_t>(vw, 48);
  print_line(fmt::format("configuration for {}", uri));
  for (const auto& e : entries) {
    print_line(fmt::format("  {:<{}}  {:<{}}  [{}]", e.key, kw, e.value, vw, cli_source(e.source)));
  }
  for (const auto& w : warnings) print_line(fmt::format("warning: {}", w.message()));
  return j;
}

Status config_show(const std::string& arg, const Globals& g) {
  OMNIO_ASSIGN_OR_RETURN(std::string uri, to_uri(arg.empty() ? std::string("file:///") : arg));
  OMNIO_ASSIGN_OR_RETURN(auto j, show_config(uri, g));
  if (g.json) print_line(j.dump());
  return ok_status();
}

Status doctor(const std::string& arg, const Globals& g) {
  OMNIO_ASSIGN_OR_RETURN(std::string uri, to_uri(arg));
  OMNIO_ASSIGN_OR_RETURN(auto j, show_config(uri, g));
  auto probe = probe_store(uri, cli_config());
  if (probe.ok()) {
    j["check"] = {{"request", probe->request}, {"ok", true}, {"seconds", probe->seconds}};
    j["verdict"] = "ok";
    if (g.json) {
      print_line(j.dump());
    } else {
      print_line(fmt::format("check: {}: ok ({:.1f} ms)", probe->request, probe->seconds * 1e3));
      print_line("verdict: ok: the endpoint answers and the credentials are accepted");
    }
    return ok_status();
  }
  const Error& e = probe.error();
  j["check"] = {{"ok", false}, {"error", error_json(e)}};
  j["verdict"] = "failed";
  if (g.json) {
    print_line(j.dump());
  } else {
    print_line(fmt::format("check: FAILED: {}", e.to_string()));
    for (const auto& [k, v] : error_lines(e)) print_line(fmt::format("  {:<13} {}", k + ":", v));
    print_line("verdict: failed");
  }
  return e.wrap(fmt::format("doctor {}", uri));
}

}  // namespace

bool DoctorCommands::selected() const {
  return (doctor != nullptr && *doctor) || (config_show != nullptr && *config_show);
}

void add_doctor_commands(CLI::App& app, DoctorCommands& d) {
  d.doctor = app.add_subcommand(
      "doctor",
      "show the effective configuration for URI with where each value came from, then check the "
      "endpoint and credentials with one cheap request (a 1-key listing)");
  d.doctor
      ->add_option("uri", d.doctor_uri, "URI whose store to check (s3://bucket, az://acct/c, ...)")
      ->required();
  d.config = app.add_subcommand("config", "configuration commands");
  d.config->require_subcommand(1);
  d.config_show = d.config->add_subcommand(
      "show", "print the effective configuration with where each value came from");
  d.config_show->add_option("uri", d.config_uri,
                            "URI whose store settings to show (default: local files)");
}

Status run_doctor_commands(const DoctorCommands& d, const Globals& g) {
  if (d.doctor != nullptr && *d.doctor) return doctor(d.doctor_uri, g);
  return config_show(d.config_uri, g);
}

void warn_suspicious_variables(const Globals& g) {
  if (g.quiet) return;
  for (const auto& v : env::suspicious_variables())
    fmt::print(stderr, "omnio: warning: {}\n", v.message());
}

void print_error(const Error& e, const Globals& g) {
  if (g.json) {
    fmt::print(stderr, "{}\n", nlohmann::json{{"error", error_json(e)}}.dump());
  } else {
    fmt::print(stderr, "omnio: error: {}\n", e.to_string());
  }
}

}  // namespace omnio::cli
