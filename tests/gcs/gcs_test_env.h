// The GCS servers of the gs:// tests: the headless firebase Storage emulator started for the run
// by scripts/servers/test-servers (ctest fixture "gcsservers"), and tests/support/gcs_fake.py, the
// project's fake of the endpoints the emulator lacks, started per test. Tests skip a missing
// emulator with the reason; they never pass silently without it.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "omnio/config.h"
#include "s3/s3_test_env.h"  // read_servers_env
#include "support/child_server.h"

namespace omnio::testing {

struct GcsEmulator {
  std::string endpoint;
  std::string skip_reason;
  Config config() const {
    Config c;
    c.gcs.endpoint = endpoint;
    return c;
  }
};

/// `which`: "EMULATOR" (the firebase emulator) or "FAKE" (the shared gcs_fake.py of the fixture).
inline GcsEmulator gcs_server(const std::string& which = "EMULATOR") {
  auto kv = read_servers_env();
  GcsEmulator e;
  e.endpoint = kv["OMNIO_TEST_GCS_" + which];
  if (e.endpoint.empty()) {
    e.skip_reason = kv.count("OMNIO_TEST_GCS_" + which + "_SKIP")
                        ? kv["OMNIO_TEST_GCS_" + which + "_SKIP"]
                        : "no GCS test servers: run through ctest (fixture gcsservers) or set "
                          "OMNIO_TEST_SERVERS_ENV "
                          "to a servers.env from scripts/servers/test-servers";
  }
  return e;
}

/// tests/support/gcs_fake.py as a child process on a free port.
class GcsFake {
 public:
  GcsFake()
      : child_(std::string(OMNIO_SOURCE_DIR) + "/tests/support/gcs_fake.py", {"--port", "0"}) {
    std::sscanf(child_.first_line().c_str(), "GCS_FAKE_PORT=%d", &port_);
  }
  bool ok() const { return port_ > 0; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// POST /_fake/config with a JSON object (merged into the fake's knobs).
  Result<std::string> configure(const std::string& json) {
    return child_.call("POST", endpoint() + "/_fake/config", json);
  }
  /// One counter of GET /_fake/stats (0 when never counted).
  long stat(const std::string& field) {
    auto r = child_.call("GET", endpoint() + "/_fake/stats");
    if (!r.ok()) return -1;
    long v = ChildServer::json_int(*r, field);
    return v < 0 ? 0 : v;
  }
  Config config() const {
    Config c;
    c.gcs.endpoint = endpoint();
    return c;
  }

 private:
  ChildServer child_;
  int port_ = 0;
};

}  // namespace omnio::testing
