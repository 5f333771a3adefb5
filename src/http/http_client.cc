#include "http/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "omnio/log.h"

namespace omnio::http {
namespace {

using Clock = std::chrono::steady_clock;

// Error bodies kept for the caller (S3/Azure/GCS error documents are a few hundred bytes).
constexpr std::size_t kMaxErrorBody = 64 * 1024;
// libcurl receive buffer; larger buffers mean fewer write callbacks per GB.
constexpr long kCurlBufferSize = 512 * 1024;
// How often a loop looks at cancellation flags even without a wake-up.
constexpr int kPollMs = 100;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == '\r' || s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

class Loop;

struct Transfer {
  Request req;
  Completion done;
  Loop* loop = nullptr;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  Response resp;
  std::size_t read_pos = 0;
  bool dest_mode = false;  // decided at the first body byte
  bool decided = false;
  bool overflow = false;
  std::optional<Error> writer_error;  // the body writer refused a piece

  // Bytes a 2xx body must have (dest mode).
  std::uint64_t dest_size() const { return req.writer ? req.writer_size : req.dest.size(); }
  bool first_byte_seen = false;
  bool stalled = false;
  curl_off_t last_moved = -1;
  Clock::time_point last_progress;
  std::chrono::milliseconds stall_timeout{0};
  std::chrono::milliseconds connect_timeout{0};
  // Holds one of its loop's connect slots (added to curl, connection not yet established).
  bool connecting = false;
  Clock::time_point started;
  std::atomic<bool> cancelled{false};
  std::optional<std::stop_callback<std::function<void()>>> on_cancel;
  char errbuf[CURL_ERROR_SIZE] = {};
};

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.substr(0, 5) == "HTTP/") {
    t->resp.headers.clear();  // a new response (after 100-continue or a redirect)
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->resp.headers.emplace_back(lower(trim(line.substr(0, colon))),
                                 std::string(trim(line.substr(colon + 1))));
  }
  return size * n;
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  if (!t->first_byte_seen) {
    t->first_byte_seen = true;
    t->resp.first_byte_seconds = std::chrono::duration<double>(Clock::now() - t->started).count();
  }
  if (!t->decided) {
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    t->dest_mode = t->req.has_dest && status >= 200 && status < 300;
    t->decided = true;
  }
  if (t->dest_mode) {
    if (t->resp.body_bytes + len > t->dest_size()) {
      t->overflow = true;
      return 0;  // aborts with CURLE_WRITE_ERROR
    }
    if (t->req.writer) {
      Status s = t->req.writer(t->resp.body_bytes, std::as_bytes(std::span<const char>(data, len)));
      if (!s.ok()) {
        t->writer_error = std::move(s).error();
        return 0;  // aborts with CURLE_WRITE_ERROR
      }
    } else {
      std::memcpy(t->req.dest.data() + t->resp.body_bytes, data, len);
    }
  } else if (!t->req.has_dest || t->resp.body.size() < kMaxErrorBody) {
    t->resp.body.append(data, len);
  }
  t->resp.body_bytes += len;
  return len;
}

std::size_t on_read(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t left = t->req.body.size() - t->read_pos;
  const std::size_t k = std::min(left, size * n);
  std::memcpy(buf, t->req.body.data() + t->read_pos, k);
  t->read_pos += k;
  return k;
}

int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > t->req.body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->read_pos = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

int on_progress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(user);
  if (t->cancelled.load(std::memory_order_relaxed)) return 1;
  const auto now = Clock::now();
  const curl_off_t moved = dlnow + ulnow;
  if (moved != t->last_moved) {
    t->last_moved = moved;
    t->last_progress = now;
  } else if (now - t->last_progress > t->stall_timeout) {
    t->stalled = true;
    return 1;
  }
  return 0;
}

// "scheme://host[:port]" of a URL (the endpoint a transport error is about).
std::string endpoint_of(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  auto path = url.find_first_of("/?", scheme + 3);
  return std::string(url.substr(0, path));
}

Error curl_error(const Transfer& t, CURLcode rc) {
  std::string detail = t.errbuf[0] ? std::string(t.errbuf) : std::string(curl_easy_strerror(rc));
  std::string what = fmt::format("{} {}", t.req.method, t.req.url);
  ErrorCode code = ErrorCode::kUnavailable;
  TransportCause cause = TransportCause::kOther;
  std::string kind;
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      cause = TransportCause::kDns;
      kind = "DNS resolution failed";
      break;
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      if (t.easy != nullptr) curl_easy_getinfo(t.easy, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno == ECONNREFUSED || os_errno == 0) {
        cause = TransportCause::kConnectRefused;
        kind = "connection refused (nothing listens there)";
      } else {
        cause = TransportCause::kUnreachable;
        kind = fmt::format("host unreachable ({})", std::strerror(static_cast<int>(os_errno)));
      }
      break;
    }
    case CURLE_OPERATION_TIMEDOUT: {
      code = ErrorCode::kDeadlineExceeded;
      curl_off_t connect_us = 0;
      if (t.easy != nullptr) curl_easy_getinfo(t.easy, CURLINFO_CONNECT_TIME_T, &connect_us);
      const bool request_timeout_first =
          t.req.timeout.count() > 0 && t.req.timeout <= t.connect_timeout;
      if (connect_us == 0 && !request_timeout_first) {
        cause = TransportCause::kConnectTimeout;
        kind =
            fmt::format("connect timeout: not connected within {} ms", t.connect_timeout.count());
      } else {
        cause = TransportCause::kRequestTimeout;
        kind =
            fmt::format("request timeout: the whole request took over {} ms{}",
                        t.req.timeout.count(), t.first_byte_seen ? "" : " (no response byte yet)");
      }
      break;
    }
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      cause = TransportCause::kTls;
      kind = "TLS failure";
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      if (t.stalled) {
        code = ErrorCode::kDeadlineExceeded;
        cause = TransportCause::kStallTimeout;
        kind = fmt::format("stall timeout: no byte moved for {} ms{}", t.stall_timeout.count(),
                           t.first_byte_seen ? "" : " (no response yet)");
        break;
      }
      code = ErrorCode::kCancelled;
      cause = TransportCause::kNone;
      kind = "cancelled";
      break;
    case CURLE_WRITE_ERROR:
      cause = TransportCause::kNone;
      if (t.overflow) {
        code = ErrorCode::kDataLoss;
        kind = fmt::format("response body longer than the {} bytes expected", t.dest_size());
      } else if (t.writer_error) {
        return t.writer_error->wrap(what);
      } else {
        kind = "write error";
      }
      break;
    case CURLE_PARTIAL_FILE:
      code = ErrorCode::kDataLoss;
      cause = TransportCause::kConnectionReset;
      kind = "connection closed before the whole body arrived";
      break;
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      cause = TransportCause::kConnectionReset;
      kind = "connection reset";
      break;
    default:
      kind = "transport error";
      break;
  }
  ErrorDetail d;
  d.operation = t.req.method;
  d.endpoint = endpoint_of(t.req.url);
  d.transport = cause;
  Error err(code, fmt::format("{}: {} (curl {}: {})", kind, detail, static_cast<int>(rc),
                              curl_easy_strerror(rc)));
  err.with_detail(d);
  Error outer = err.wrap(what);
  outer.with_detail(std::move(d));
  return outer;
}

int on_prereq(void* user, char*, char*, int, int);

class Loop {
 public:
  Loop(const HttpConfig& cfg, std::size_t index) : cfg_(cfg) {
    multi_ = curl_multi_init();
    // No per-host cap: a cap forces handshakes or queueing that the caller did not ask for.
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 1024L);
    thread_ = std::jthread([this](std::stop_token st) { run(st); });
    std::string name = fmt::format("omnio-http{}", index);
    pthread_setname_np(thread_.native_handle(), name.substr(0, 15).c_str());
  }

  ~Loop() {
    thread_.request_stop();
    curl_multi_wakeup(multi_);
    thread_.join();
    for (CURL* e : idle_) curl_easy_cleanup(e);
    curl_multi_cleanup(multi_);
  }

  void submit(std::unique_ptr<Transfer> t) {
    {
      std::lock_guard g(mu_);
      queue_.push_back(std::move(t));
    }
    curl_multi_wakeup(multi_);
  }

  void wake() { curl_multi_wakeup(multi_); }

  // The transfer's connection is established (or was reused): its connect slot is free.
  void connected(Transfer& t) {
    if (!t.connecting) return;
    t.connecting = false;
    --connecting_;
  }

 private:
  // Ramped start: at most cfg_.max_connecting transfers of this loop wait for a connection at
  // once; the rest wait here, so a burst of first requests does not open thousands of sockets in
  // the same instant and trip connect timeouts (backlog overflow, SYN retransmits).
  void admit() {
    while (!waiting_.empty() && (cfg_.max_connecting == 0 || connecting_ < cfg_.max_connecting)) {
      std::unique_ptr<Transfer> t = std::move(waiting_.front());
      waiting_.pop_front();
      start(std::move(t));
    }
  }

  void start(std::unique_ptr<Transfer> t) {
    if (t->req.cancel.is_cancelled()) {
      finish(std::move(t), Error(ErrorCode::kCancelled,
                                 fmt::format("{} {}: cancelled", t->req.method, t->req.url)));
      return;
    }
    CURL* e;
    if (!idle_.empty()) {
      e = idle_.back();
      idle_.pop_back();
      curl_easy_reset(e);
    } else {
      e = curl_easy_init();
    }
    t->easy = e;
    t->loop = this;
    t->started = Clock::now();
    const Request& r = t->req;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, t.get());
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, kCurlBufferSize);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    // Object keys may contain "." and ".." segments and "//": send the path exactly as given.
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(cfg_.connect_timeout.count()));
    t->stall_timeout = cfg_.stall_timeout;
    t->connect_timeout = cfg_.connect_timeout;
    t->last_progress = t->started;
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, t.get());
    if (r.timeout.count() > 0)
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                     cfg_.http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, cfg_.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, cfg_.verify_tls ? 2L : 0L);
    if (!cfg_.ca_bundle.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, cfg_.ca_bundle.c_str());
    // Bodies we send are in memory: no 100-continue round trip.
    t->header_list = curl_slist_append(t->header_list, "Expect:");
    bool has_content_type = false;
    for (const auto& [k, v] : r.headers) {
      if (lower(k) == "content-type") has_content_type = true;
      std::string line = v.empty() ? k + ";" : k + ": " + v;
      t->header_list = curl_slist_append(t->header_list, line.c_str());
    }
    if (r.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (r.method == "PUT" || r.method == "POST") {
      if (r.method == "PUT") {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      } else {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
        if (!has_content_type) t->header_list = curl_slist_append(t->header_list, "Content-Type:");
      }
      curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(e, CURLOPT_READDATA, t.get());
      curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
      curl_easy_setopt(e, CURLOPT_SEEKDATA, t.get());
    } else if (r.method != "GET") {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);
    Transfer* raw = t.get();
    if (r.cancel.stop_token().stop_possible()) {
      raw->on_cancel.emplace(r.cancel.stop_token(), std::function<void()>([raw, this] {
                               raw->cancelled.store(true);
                               curl_multi_wakeup(multi_);
                             }));
    }
    CURLMcode mc = curl_multi_add_handle(multi_, e);
    if (mc != CURLM_OK) {
      finish(std::move(t), Error(ErrorCode::kInternal, fmt::format("curl_multi_add_handle: {}",
                                                                   curl_multi_strerror(mc))));
      return;
    }
    t->connecting = true;
    ++connecting_;
    active_.emplace(e, std::move(t));
  }

  // Releases the easy handle and runs the completion.
  void finish(std::unique_ptr<Transfer> t, Result<Response> result) {
    t->on_cancel.reset();  // waits for a concurrently running cancel callback
    connected(*t);
    if (t->easy != nullptr) {
      curl_multi_remove_handle(multi_, t->easy);
      idle_.push_back(t->easy);
      t->easy = nullptr;
    }
    curl_slist_free_all(t->header_list);
    t->header_list = nullptr;
    Completion done = std::move(t->done);
    t.reset();
    done(std::move(result));
  }

  void complete(CURL* e, CURLcode rc) {
    auto it = active_.find(e);
    if (it == active_.end()) return;
    std::unique_ptr<Transfer> t = std::move(it->second);
    active_.erase(it);
    t->resp.total_seconds = std::chrono::duration<double>(Clock::now() - t->started).count();
    if (t->cancelled.load() && rc != CURLE_OK) {
      finish(std::move(t), Error(ErrorCode::kCancelled, "cancelled")
                               .wrap(fmt::format("{} {}", t->req.method, t->req.url)));
      return;
    }
    if (rc != CURLE_OK) {
      Error err = curl_error(*t, rc);
      finish(std::move(t), std::move(err));
      return;
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &t->resp.status);
    if (t->req.has_dest && t->resp.status >= 200 && t->resp.status < 300 &&
        t->req.method != "HEAD" && t->req.dest_exact && t->resp.body_bytes != t->dest_size()) {
      Error err(ErrorCode::kDataLoss,
                fmt::format("{} {}: response body has {} bytes, expected {}", t->req.method,
                            t->req.url, t->resp.body_bytes, t->dest_size()));
      err.with_http_status(static_cast<int>(t->resp.status));
      finish(std::move(t), std::move(err));
      return;
    }
    Response resp = std::move(t->resp);
    finish(std::move(t), std::move(resp));
  }

  void run(std::stop_token st) {
    while (!st.stop_requested()) {
      std::deque<std::unique_ptr<Transfer>> incoming;
      {
        std::lock_guard g(mu_);
        incoming.swap(queue_);
      }
      for (auto& t : incoming) waiting_.push_back(std::move(t));
      // Cancelled transfers leave at once, without waiting for curl to notice.
      for (auto it = waiting_.begin(); it != waiting_.end();) {
        if ((*it)->req.cancel.is_cancelled()) {
          std::unique_ptr<Transfer> t = std::move(*it);
          it = waiting_.erase(it);
          start(std::move(t));  // completes it as cancelled
        } else {
          ++it;
        }
      }
      admit();
      for (auto it = active_.begin(); it != active_.end();) {
        if (it->second->cancelled.load()) {
          std::unique_ptr<Transfer> t = std::move(it->second);
          it = active_.erase(it);
          std::string what = fmt::format("{} {}", t->req.method, t->req.url);
          finish(std::move(t), Error(ErrorCode::kCancelled, "cancelled").wrap(what));
        } else {
          ++it;
        }
      }
      int running = 0;
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
        if (m->msg == CURLMSG_DONE) complete(m->easy_handle, m->data.result);
      }
      admit();
      curl_multi_poll(multi_, nullptr, 0, kPollMs, nullptr);
    }
    // Shutting down: everything still queued or in flight completes as cancelled.
    std::deque<std::unique_ptr<Transfer>> rest;
    {
      std::lock_guard g(mu_);
      rest.swap(queue_);
    }
    for (auto& t : waiting_) rest.push_back(std::move(t));
    waiting_.clear();
    for (auto& [e, t] : active_) rest.push_back(std::move(t));
    active_.clear();
    for (auto& t : rest) {
      std::string what = fmt::format("{} {}", t->req.method, t->req.url);
      finish(std::move(t), Error(ErrorCode::kCancelled, "HTTP client shut down").wrap(what));
    }
  }

  const HttpConfig& cfg_;
  CURLM* multi_ = nullptr;
  std::mutex mu_;
  std::deque<std::unique_ptr<Transfer>> queue_;
  // Submitted, waiting for a connect slot (loop thread only).
  std::deque<std::unique_ptr<Transfer>> waiting_;
  std::size_t connecting_ = 0;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active_;
  std::vector<CURL*> idle_;
  std::jthread thread_;
};

int on_prereq(void* user, char*, char*, int, int) {
  auto* t = static_cast<Transfer*>(user);
  t->loop->connected(*t);
  return CURL_PREREQFUNC_OK;
}

class CurlClient final : public HttpClient {
 public:
  explicit CurlClient(const HttpConfig& cfg) : cfg_(cfg) {
    const std::size_t n = std::max<std::size_t>(1, cfg_.event_loops);
    for (std::size_t i = 0; i < n; ++i) loops_.push_back(std::make_unique<Loop>(cfg_, i));
  }
  ~CurlClient() override { loops_.clear(); }

  void submit(Request request, Completion done) override {
    auto t = std::make_unique<Transfer>();
    t->req = std::move(request);
    t->done = std::move(done);
    const std::size_t i = next_.fetch_add(1, std::memory_order_relaxed) % loops_.size();
    loops_[i]->submit(std::move(t));
  }

 private:
  HttpConfig cfg_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace

std::string_view Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return {};
}

Result<std::shared_ptr<HttpClient>> HttpClient::create(const HttpConfig& config) {
  static std::once_flag once;
  static CURLcode init_rc = CURLE_OK;
  std::call_once(once, [] { init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init_rc != CURLE_OK) {
    return Error(ErrorCode::kInternal,
                 fmt::format("curl_global_init failed: {}", curl_easy_strerror(init_rc)));
  }
  return std::shared_ptr<HttpClient>(std::make_shared<CurlClient>(config));
}

HttpConfig http_config_from(const HttpSettings& settings, std::string ca_bundle) {
  HttpConfig hc;
  hc.event_loops = settings.event_loops;
  hc.connect_timeout = settings.connect_timeout;
  hc.stall_timeout = settings.stall_timeout;
  hc.max_connecting = settings.max_connecting;
  hc.http2 = settings.http2;
  hc.verify_tls = settings.verify_tls;
  hc.ca_bundle = std::move(ca_bundle);
  return hc;
}

Result<Response> wait_for(const std::function<void(Completion)>& submit) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<Response>> out;
  submit([&](Result<Response> r) {
    std::lock_guard g(mu);
    out.emplace(std::move(r));
    cv.notify_one();
  });
  std::unique_lock lock(mu);
  // The transfer always completes: it carries connect/stall timeouts and the caller's token.
  cv.wait(lock, [&] { return out.has_value(); });
  return std::move(*out);
}

Result<Response> HttpClient::perform(Request request) {
  return wait_for([&](Completion done) { submit(std::move(request), std::move(done)); });
}

}  // namespace omnio::http
