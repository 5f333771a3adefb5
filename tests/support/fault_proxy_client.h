// FaultProxy: tests/support/fault_proxy.py as a child process of a test, with its JSON control API
// (rules, stats). Integration tests point a store's endpoint at endpoint().
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "http/http_client.h"

namespace omnio::testing {

/// The proxy as a child process (OMNIO_SOURCE_DIR locates the script).
class FaultProxy {
 public:
  explicit FaultProxy(const std::string& upstream) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      std::string script = std::string(OMNIO_SOURCE_DIR) + "/tests/support/fault_proxy.py";
      ::execlp("python3", "python3", script.c_str(), "--upstream", upstream.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* f = ::fdopen(fds[0], "r");
    char line[256] = {};
    if (f != nullptr && std::fgets(line, sizeof line, f) != nullptr) {
      std::sscanf(line, "FAULT_PROXY_PORT=%d FAULT_PROXY_CONTROL_PORT=%d", &port_, &control_);
    }
    if (f != nullptr) std::fclose(f);
    auto c = http::HttpClient::create({});
    if (c.ok()) client_ = *c;
  }
  ~FaultProxy() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool ok() const { return port_ > 0 && control_ > 0 && client_; }
  std::string endpoint() const { return fmt::format("http://127.0.0.1:{}", port_); }

  Result<std::string> control(const std::string& method, const std::string& path,
                              const std::string& body = {}) {
    http::Request r;
    r.method = method;
    r.url = fmt::format("http://127.0.0.1:{}{}", control_, path);
    r.body = std::as_bytes(std::span<const char>(body.data(), body.size()));
    r.headers = {{"Content-Type", "application/json"}};
    OMNIO_ASSIGN_OR_RETURN(http::Response resp, client_->perform(r));
    if (resp.status != 200)
      return Error(ErrorCode::kInternal, fmt::format("proxy said {}: {}", resp.status, resp.body));
    return resp.body;
  }
  void rules(const std::string& json) {
    auto r = control("POST", "/rules", json);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }
  // One integer field of /stats.
  long stat(const std::string& field) {
    auto r = control("GET", "/stats");
    if (!r.ok()) return -1;
    auto p = r->find("\"" + field + "\":");
    if (p == std::string::npos) return -1;
    return std::strtol(r->c_str() + p + field.size() + 3, nullptr, 10);
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0, control_ = 0;
  std::shared_ptr<http::HttpClient> client_;
};

}  // namespace omnio::testing
