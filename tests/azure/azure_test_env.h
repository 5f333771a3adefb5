// Azurite, started for this test run by scripts/servers/test-servers (ctest fixture
// "azureservers"): where it is, and why it is missing. Tests skip with that reason; they never pass
// silently without it.
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "omnio/config.h"

namespace omnio::testing {

/// Azurite's well-known development account and key (public, documented by Microsoft).
inline constexpr const char* kAzuriteAccount = "devstoreaccount1";
inline constexpr const char* kAzuriteKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

struct AzureTestServer {
  std::string endpoint;  ///< "http://127.0.0.1:10100"; empty when unavailable
  std::string skip_reason;

  Config config() const {
    Config c;
    c.azure.endpoint = endpoint;
    c.azure.account = kAzuriteAccount;
    c.azure.account_key = kAzuriteKey;
    return c;
  }
};

inline AzureTestServer azure_test_server() {
  std::map<std::string, std::string> kv;
  if (const char* path = std::getenv("OMNIO_TEST_SERVERS_ENV")) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      auto eq = line.find('=');
      if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  AzureTestServer s;
  s.endpoint = kv["OMNIO_TEST_AZURITE"];
  if (s.endpoint.empty()) {
    s.skip_reason =
        kv.count("OMNIO_TEST_AZURITE_SKIP")
            ? kv["OMNIO_TEST_AZURITE_SKIP"]
            : "no Azurite: run through ctest (fixture azureservers) or set "
              "OMNIO_TEST_SERVERS_ENV to a servers.env from scripts/servers/test-servers";
  }
  return s;
}

}  // namespace omnio::testing
