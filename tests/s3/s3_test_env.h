// The real S3 servers started for this test run by scripts/servers/test-servers (ctest fixture
// "s3servers"): where they are, and why one is missing. Tests skip a missing server with that
// reason; they never pass silently without it.
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "omnio/config.h"

namespace omnio::testing {

struct S3TestServer {
  std::string name;      ///< "rgw" or "moto"
  std::string endpoint;  ///< empty when unavailable
  std::string access_key;
  std::string secret_key;
  std::string skip_reason;

  Config config() const {
    Config c;
    c.s3.endpoint = endpoint;
    c.s3.region = "us-east-1";
    c.s3.access_key_id = access_key;
    c.s3.secret_access_key = secret_key;
    return c;
  }
};

/// Test names and failure messages show the server's name, not its bytes.
inline void PrintTo(const S3TestServer& s, std::ostream* os) { *os << s.name; }

inline std::map<std::string, std::string> read_servers_env() {
  std::map<std::string, std::string> kv;
  const char* path = std::getenv("OMNIO_TEST_SERVERS_ENV");
  if (path == nullptr) return kv;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return kv;
}

/// Ceph radosgw first (it verifies SigV4 and keeps connections alive), then moto.
inline std::vector<S3TestServer> s3_test_servers() {
  auto kv = read_servers_env();
  std::vector<S3TestServer> out;
  for (std::string name : {"rgw", "moto"}) {
    std::string up = name == "rgw" ? "RGW" : "MOTO";
    S3TestServer s;
    s.name = name;
    s.endpoint = kv["OMNIO_TEST_S3_" + up];
    s.access_key = name == "rgw" ? kv["OMNIO_TEST_S3_RGW_ACCESS_KEY"] : "omnio-test";
    s.secret_key = name == "rgw" ? kv["OMNIO_TEST_S3_RGW_SECRET_KEY"] : "omnio-test-secret";
    if (s.endpoint.empty()) {
      s.skip_reason = kv.count("OMNIO_TEST_S3_" + up + "_SKIP")
                          ? kv["OMNIO_TEST_S3_" + up + "_SKIP"]
                          : "no test servers: run through ctest (fixture s3servers) or set "
                            "OMNIO_TEST_SERVERS_ENV to a servers.env from scripts/servers/test-servers";
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace omnio::testing
