// PartSink: the RawSink of network writers. It cuts the stream into parts (one buffer of the
// current part size at a time; a full part is handed over with its buffer as owner once more data
// follows), starts the upload with the second part's first byte, and writes a stream of at most
// one part as a single request at commit. The backend supplies the requests (S3 multipart, Azure
// staged blocks).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "core/buffer_recycler.h"
#include "core/stream_writer.h"
#include "omnio/aligned_buffer.h"

namespace omnio {

class PartSink final : public RawSink {
 public:
  struct Ops {
    /// Size of part n (1-based), bytes.
    std::function<std::size_t(std::size_t n)> part_size;
    /// Starts the upload, before part 1 is sent.
    std::function<Status()> start;
    /// Sends part n; `owner` keeps `body` alive until the part completes. May block for a permit.
    std::function<Status(int n, std::span<const std::byte> body, std::shared_ptr<const void> owner)>
        send_part;
    /// Commits `parts` parts holding `total` bytes.
    std::function<Status(std::uint64_t total, int parts)> complete;
    /// Writes a stream of at most one part (exactly one full part included) in one request.
    std::function<Status(const Bytes& data)> single_put;
    /// Discards the upload (nothing becomes visible).
    std::function<Status()> abort;
    /// Parts the backend keeps in flight: that many + 1 part buffers are recycled, so a long stream
    /// reuses warm buffers instead of faulting in fresh memory for every part.
    std::size_t parts_in_flight = 8;
    /// The writer's token: a wait for part memory under the process MemoryBudget ends with
    /// kCancelled when it fires (the backend's requests already watch it).
    CancellationToken cancel;
  };

  explicit PartSink(Ops ops)
      : ops_(std::move(ops)),
        buffers_(BufferRecycler::create(ops_.parts_in_flight + 1, kPartAlignment)) {}

  Status append(std::span<const std::byte> data) override;
  Status commit() override;
  Status abort() override;

 private:
  Status flush();

  /// Part buffers handed to libcurl: cache-line aligned.
  static constexpr std::size_t kPartAlignment = 64;

  Ops ops_;
  std::shared_ptr<BufferRecycler> buffers_;
  bool started_ = false;
  std::shared_ptr<AlignedBuffer> buf_;
  std::size_t fill_ = 0;
  std::uint64_t total_ = 0;
  int parts_ = 0;
};

}  // namespace omnio
