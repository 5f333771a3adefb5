// A helper server run as a child process for integration tests (tests/support/*.py): started with
// its arguments, its first stdout line parsed for the ports it listens on, controlled over HTTP,
// stopped with SIGTERM when the object dies.
#pragma once

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "http/http_client.h"

namespace omnio::testing {

class ChildServer {
 public:
  /// Runs `python3 script args...`; first_line() is its first stdout line.
  ChildServer(const std::string& script, const std::vector<std::string>& args) {
    // Everything the child needs is built before fork(): between fork and exec a multi-threaded
    // parent's child may only make async-signal-safe calls (no malloc).
    std::vector<std::string> storage = {"python3", script};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::execvp("python3", argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* f = ::fdopen(fds[0], "r");
    char line[512] = {};
    if (f != nullptr && std::fgets(line, sizeof line, f) != nullptr) first_line_ = line;
    if (f != nullptr) std::fclose(f);
    auto c = http::HttpClient::create({});
    if (c.ok()) client_ = *c;
  }
  ~ChildServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;

  const std::string& first_line() const { return first_line_; }

  /// An HTTP exchange with the child (its control API); non-2xx is an error.
  Result<std::string> call(const std::string& method, const std::string& url,
                           const std::string& body = {}) {
    if (!client_) return Error(ErrorCode::kInternal, "no HTTP client");
    http::Request r;
    r.method = method;
    r.url = url;
    r.body = std::as_bytes(std::span<const char>(body.data(), body.size()));
    r.headers = {{"Content-Type", "application/json"}};
    OMNIO_ASSIGN_OR_RETURN(http::Response resp, client_->perform(r));
    if (resp.status < 200 || resp.status >= 300) {
      return Error(ErrorCode::kInternal,
                   fmt::format("{} {} said {}: {}", method, url, resp.status, resp.body));
    }
    return resp.body;
  }

  /// One integer field of a flat JSON object ("field": 12), or -1.
  static long json_int(const std::string& json, const std::string& field) {
    auto p = json.find("\"" + field + "\":");
    if (p == std::string::npos) return -1;
    return std::strtol(json.c_str() + p + field.size() + 3, nullptr, 10);
  }

 private:
  pid_t pid_ = -1;
  std::string first_line_;
  std::shared_ptr<http::HttpClient> client_;
};

}  // namespace omnio::testing
