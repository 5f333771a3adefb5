// ServiceCall: one request to a storage service before it is addressed and signed. Each backend
// derives its Call from it, adding where the request goes (bucket/key, account/container/blob).
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "http/http_client.h"

namespace omnio::http {

struct ServiceCall {
  std::string method = "GET";
  /// Raw (unencoded) query parameters.
  std::vector<std::pair<std::string, std::string>> query;
  Headers headers;
  std::span<const std::byte> body;
  std::span<std::byte> dest;
  bool has_dest = false;
  bool dest_exact = true;
  /// Instead of `dest` (see Request::writer).
  BodyWriter writer;
  std::uint64_t writer_size = 0;
  std::chrono::milliseconds timeout{0};
  bool idempotent = true;
  CancellationToken cancel;
  /// "GET s3://bucket/key" for messages.
  std::string what;

  /// Copies the transfer fields (method, body, destination, timeout, cancellation) into `r`.
  void fill(Request& r) const {
    r.method = method;
    r.body = body;
    r.dest = dest;
    r.has_dest = has_dest;
    r.dest_exact = dest_exact;
    r.writer = writer;
    r.writer_size = writer_size;
    r.timeout = timeout;
    r.cancel = cancel;
  }
};

}  // namespace omnio::http
