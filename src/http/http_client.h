// HttpClient: libcurl multi handles driven by a few event-loop threads. Requests are submitted
// from any thread; completions run on a loop thread and must do microseconds of work.
// Response bodies of successful requests stream straight into the caller's destination (a ranged
// GET lands in its slot); error bodies are kept (capped) for the caller to parse.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "omnio/cancel.h"
#include "omnio/constants.h"
#include "omnio/result.h"
#include "omnio/s3_config.h"

namespace omnio::http {

/// Transport settings shared by every request of one client.
struct HttpConfig {
  /// Event-loop threads (each owns one CURLM and its connection cache).
  std::size_t event_loops = 1;
  /// TCP + TLS connect timeout.
  std::chrono::milliseconds connect_timeout{10000};
  /// A transfer that moves no byte (up or down) for this long is a stall (kDeadlineExceeded).
  /// Measured by omnio itself: libcurl's low-speed check averages over ~5 s and fires late.
  std::chrono::milliseconds stall_timeout{30000};
  /// Ramped start: transfers of one event loop that may wait for a new connection at once (0 =
  /// unlimited). Later ones queue (not counting against their connect timeout) until one connects.
  std::size_t max_connecting = kDefaultMaxConnectingPerLoop;
  /// Use HTTP/2 over TLS when the server offers it (HTTP/1.1 otherwise; the default).
  bool http2 = false;
  /// Verify TLS certificates (always on unless a test turns it off).
  bool verify_tls = true;
  /// PEM bundle of trusted CAs; empty = the system store.
  std::string ca_bundle;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

/// Receives a response body piece by piece: `offset` is the piece's position within the body.
/// Runs on an event-loop thread; returning an error aborts the transfer with that error.
using BodyWriter = std::function<Status(std::uint64_t offset, std::span<const std::byte> data)>;

/// One request. Spans must stay valid until the completion runs.
struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  /// Request body (PUT/POST); empty = none.
  std::span<const std::byte> body;
  /// When set, a 2xx response body is written here and must fill it exactly (shorter or longer is
  /// kDataLoss). When empty, the body is returned in Response::body.
  std::span<std::byte> dest;
  bool has_dest = false;
  /// Instead of `dest`: a 2xx body goes to this writer, and must be `writer_size` bytes (the
  /// same exactness rules as `dest`). Requires has_dest.
  BodyWriter writer;
  std::uint64_t writer_size = 0;
  /// false: the body may be shorter than dest (a range that runs past the end of an object);
  /// Response::body_bytes tells how much arrived. Longer is always kDataLoss.
  bool dest_exact = true;
  /// Whole-request timeout; zero = none (the stall timeout still applies).
  std::chrono::milliseconds timeout{0};
  CancellationToken cancel;
};

/// A completed exchange (any HTTP status: mapping statuses to errors is the caller's business).
struct Response {
  long status = 0;
  /// Header names lower-cased, in arrival order (the final response's headers only).
  Headers headers;
  /// The body when no destination was given, or the (capped) body of a non-2xx response.
  std::string body;
  /// Body bytes received.
  std::uint64_t body_bytes = 0;
  /// Seconds from submission to the first response byte.
  double first_byte_seconds = 0;
  double total_seconds = 0;
  /// First value of a header (name is case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
};

using Completion = std::function<void(Result<Response>)>;

/// A pool of event loops. Thread-safe. Destruction cancels in-flight transfers (their completions
/// run with kCancelled) and joins the loops.
class HttpClient {
 public:
  static Result<std::shared_ptr<HttpClient>> create(const HttpConfig& config);
  virtual ~HttpClient() = default;
  /// Queues a request; `done` runs exactly once on a loop thread.
  virtual void submit(Request request, Completion done) = 0;
  /// Submits and waits.
  Result<Response> perform(Request request);
};

/// The client configuration of a store's HttpSettings (include/omnio/s3_config.h), with the CA
/// bundle the store resolved.
HttpConfig http_config_from(const HttpSettings& settings, std::string ca_bundle);

/// Starts an asynchronous request with `submit` and waits for its completion: the synchronous form
/// of every submit-style call (the request always completes: timeouts and tokens bound it).
Result<Response> wait_for(const std::function<void(Completion)>& submit);

}  // namespace omnio::http
