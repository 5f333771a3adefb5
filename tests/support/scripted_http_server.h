// A tiny HTTP/1.1 server on 127.0.0.1 for unit tests of omnio's own HTTP logic: each request is
// answered by a test-supplied handler that can send a body, stall, lie about the length or cut the
// connection. Not a model of any storage service: integration tests use real servers.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace omnio::testing {

struct ScriptedRequest {
  std::string method, target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

/// What the handler wants sent back.
struct ScriptedReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Content-Length to announce; -1 = body.size().
  long long content_length = -1;
  /// Send only this many body bytes, then close; -1 = all.
  long long cut_after = -1;
  /// Sleep before answering (the connection stays open).
  std::chrono::milliseconds delay{0};
};

class ScriptedHttpServer {
 public:
  using Handler = std::function<ScriptedReply(const ScriptedRequest&)>;

  explicit ScriptedHttpServer(Handler h) : handler_(std::move(h)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~ScriptedHttpServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    acceptor_.join();
    std::vector<std::thread> conns;
    {
      std::lock_guard g(mu_);
      for (int c : open_fds_) ::shutdown(c, SHUT_RDWR);
      conns.swap(conns_);
    }
    for (auto& t : conns) t.join();
  }

  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int requests() const { return requests_.load(); }
  int connections() const { return connections_.load(); }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::lock_guard g(mu_);
      open_fds_.push_back(c);
      conns_.emplace_back([this, c] { serve(c); });
    }
  }

  bool read_request(int c, std::string& buf, ScriptedRequest* req) {
    std::size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(c, buf)) return false;
    }
    std::string head = buf.substr(0, end);
    buf.erase(0, end + 4);
    std::size_t line_end = head.find("\r\n");
    std::string first = head.substr(0, line_end);
    auto sp1 = first.find(' '), sp2 = first.rfind(' ');
    req->method = first.substr(0, sp1);
    req->target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      std::size_t e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      std::string line = head.substr(pos, e - pos);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string k = line.substr(0, colon);
        for (auto& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        std::string v = line.substr(colon + 1);
        while (!v.empty() && v.front() == ' ') v.erase(0, 1);
        req->headers[k] = v;
      }
      pos = e + 2;
    }
    std::size_t want = 0;
    if (auto it = req->headers.find("content-length"); it != req->headers.end()) {
      want = std::stoull(it->second);
    }
    while (buf.size() < want) {
      if (!fill(c, buf)) return false;
    }
    req->body = buf.substr(0, want);
    buf.erase(0, want);
    return true;
  }

  bool fill(int c, std::string& buf) {
    char tmp[65536];
    for (;;) {
      if (stop_) return false;
      pollfd p{c, POLLIN, 0};
      int r = ::poll(&p, 1, 50);
      if (r == 0) continue;
      ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<std::size_t>(n));
      return true;
    }
  }

  void send_all(int c, const char* p, std::size_t n) {
    while (n > 0) {
      ssize_t k = ::send(c, p, n, MSG_NOSIGNAL);
      if (k <= 0) return;
      p += k;
      n -= static_cast<std::size_t>(k);
    }
  }

  void serve(int c) {
    std::string buf;
    ScriptedRequest req;
    while (!stop_ && read_request(c, buf, &req)) {
      ++requests_;
      ScriptedReply rep = handler_(req);
      auto until = std::chrono::steady_clock::now() + rep.delay;
      while (!stop_ && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (stop_) break;
      std::string head = "HTTP/1.1 " + std::to_string(rep.status) + " X\r\n";
      long long cl =
          rep.content_length >= 0 ? rep.content_length : static_cast<long long>(rep.body.size());
      head += "Content-Length: " + std::to_string(cl) + "\r\n";
      for (auto& [k, v] : rep.headers) head += k + ": " + v + "\r\n";
      head += "\r\n";
      send_all(c, head.data(), head.size());
      std::size_t n = rep.body.size();
      if (req.method == "HEAD") n = 0;
      if (rep.cut_after >= 0) n = std::min<std::size_t>(n, static_cast<std::size_t>(rep.cut_after));
      send_all(c, rep.body.data(), n);
      if (rep.cut_after >= 0) break;
      req = ScriptedRequest{};
    }
    ::shutdown(c, SHUT_RDWR);
    std::lock_guard g(mu_);
    std::erase(open_fds_, c);
    ::close(c);
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0}, connections_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> conns_;
  std::vector<int> open_fds_;
};

}  // namespace omnio::testing
