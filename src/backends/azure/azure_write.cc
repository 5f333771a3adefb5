// az:// writes: Put Blob, staged uploads (Put Block with a bounded number of blocks in flight, the
// permit taken BEFORE a block is sent, then Put Block List — never after an error), the streaming
// writer, and Copy Blob.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "backends/azure/azure_store_impl.h"
#include "backends/azure/azure_xml.h"
#include "core/part_sink.h"
#include "core/stream_writer.h"
#include "http/encoding.h"
#include "http/part_pipeline.h"
#include "omnio/log.h"

namespace omnio::azure {
namespace {

void add_put_headers(Call& c, const PutOptions& opts, bool block_list) {
  if (!opts.content_type.empty()) {
    c.headers.emplace_back(block_list ? "x-ms-blob-content-type" : "Content-Type",
                           opts.content_type);
  }
  for (const auto& [k, v] : opts.metadata) c.headers.emplace_back("x-ms-meta-" + k, v);
}

// Block n (1-based) of a stream of unknown length: the base size for the first 5,000 blocks, then
// doubling every 5,000 blocks (capped at Azure's 4,000 MiB), so 50,000 blocks hold far more than a
// 16 MiB base alone while small streams keep small blocks.
std::size_t streaming_block_size(std::size_t base, std::size_t n) {
  const std::size_t doublings = std::min<std::size_t>((n - 1) / 5000, 20);
  return static_cast<std::size_t>(
      std::min<std::uint64_t>(kAzureMaxBlockSize, static_cast<std::uint64_t>(base) << doublings));
}

// A block size for a known total: at least `wanted`, large enough for 50,000 blocks (rounded up to
// a MiB), at most 4,000 MiB.
std::size_t block_size_for(std::uint64_t total, std::size_t wanted) {
  std::uint64_t bs = std::max<std::uint64_t>(wanted, kAzureMinBlockSize);
  const std::uint64_t need = (total + kAzureMaxBlocks - 1) / kAzureMaxBlocks;
  if (need > bs) bs = (need + kMiB - 1) / kMiB * kMiB;
  return static_cast<std::size_t>(std::min<std::uint64_t>(bs, kAzureMaxBlockSize));
}

// Status polls of a pending cross-account Copy Blob (~2 s apart once backed off: about 30 min).
constexpr int kCopyPolls = 900;

// A per-upload nonce: block ids of two uploads to the same blob never collide.
std::uint32_t upload_nonce() {
  static std::mutex mu;
  static std::mt19937 rng{std::random_device{}()};
  std::lock_guard g(mu);
  return static_cast<std::uint32_t>(rng());
}

}  // namespace

// One staged upload: blocks in flight under a permit count, then Put Block List. Abort leaves the
// uncommitted blocks, which Azure discards after 7 days; they are never committed.
class BlockUpload {
 public:
  BlockUpload(std::shared_ptr<AzureStore> store, Target t, PutOptions opts)
      : store_(std::move(store)),
        t_(std::move(t)),
        opts_(std::move(opts)),
        uri_(AzureStore::uri_of(t_)),
        nonce_(upload_nonce()),
        blocks_(store_->config().max_blocks_in_flight, opts_.cancel.child(), uri_) {}

  ~BlockUpload() { blocks_.cancel_and_wait(); }

  const std::string& uri() const { return uri_; }

  /// Fixed-width id of block n: base64 of "<nonce hex>-<n zero-padded>".
  std::string block_id(int n) const {
    return http::base64_encode(fmt::format("{:08x}-{:0{}d}", nonce_, n, kAzureBlockIdDigits));
  }

  // Sends block n. Blocks until a permit is free; returns the upload's first error instead of
  // sending once anything failed.
  Status send_block(int n, std::span<const std::byte> body, std::shared_ptr<const void> owner) {
    if (static_cast<std::size_t>(n) > kAzureMaxBlocks) {
      return Error(
          ErrorCode::kInvalidArgument,
          fmt::format("{}: more than {} blocks (use a larger block size)", uri_, kAzureMaxBlocks));
    }
    OMNIO_TRY(blocks_.acquire());
    Call c;
    c.method = "PUT";
    c.target = t_;
    c.query = {{"comp", "block"}, {"blockid", block_id(n)}};
    c.body = body;
    c.cancel = blocks_.cancel();
    c.what = fmt::format("PUT BLOCK {} of {} ({} bytes)", n, uri_, body.size());
    store_->submit(std::move(c), [this, owner = std::move(owner)](Result<http::Response> r) {
      blocks_.finish(r.ok() ? ok_status() : Status(std::move(r).error()));
    });
    return ok_status();
  }

  // Commits blocks 1..n after every block succeeded; never after an error.
  Status commit(int n) {
    OMNIO_TRY(blocks_.wait_all());
    std::vector<std::string> ids;
    for (int i = 1; i <= n; ++i) ids.push_back(block_id(i));
    const std::string body = build_block_list(ids);
    Call c;
    c.method = "PUT";
    c.target = t_;
    c.query = {{"comp", "blocklist"}};
    c.headers.emplace_back("Content-Type", "application/xml");
    add_put_headers(c, opts_, true);
    c.body = std::as_bytes(std::span<const char>(body.data(), body.size()));
    c.cancel = blocks_.cancel();
    c.what = fmt::format("PUT BLOCK LIST {} ({} blocks)", uri_, n);
    OMNIO_TRY(store_->perform(std::move(c)));
    return ok_status();
  }

  // Cancels blocks in flight and waits for them; nothing is committed.
  Status abort() {
    blocks_.cancel_and_wait();
    log::debug("{}: staged upload abandoned (uncommitted blocks expire on their own)", uri_);
    return ok_status();
  }

 private:
  std::shared_ptr<AzureStore> store_;
  Target t_;
  PutOptions opts_;
  std::string uri_;
  std::uint32_t nonce_;
  http::PartPipeline blocks_;
};

// ---- whole-object writes ------------------------------------------------------------------------

Status AzureStore::put_blob(const Target& t, const Bytes& data, const PutOptions& opts) {
  if (data.size() > kAzureMaxSinglePutSize) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("{}: {} bytes exceed one Put Blob (5000 MiB)", uri_of(t), data.size()));
  }
  Call c;
  c.method = "PUT";
  c.target = t;
  c.body = data.span();
  c.headers.emplace_back("x-ms-blob-type", "BlockBlob");
  add_put_headers(c, opts, false);
  c.cancel = opts.cancel;
  c.what = fmt::format("PUT {} ({} bytes)", uri_of(t), data.size());
  OMNIO_TRY(perform(std::move(c)));
  return ok_status();
}

Status AzureStore::put(std::string_view uri, const Bytes& data, const PutOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  if (data.size() > cfg_.single_put_threshold) return put_multipart(uri, data, std::nullopt, opts);
  return put_blob(t, data, opts);
}

Status AzureStore::put_multipart(std::string_view uri, const Bytes& data,
                                 std::optional<std::size_t> part_size, const PutOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  const std::size_t bs = block_size_for(
      data.size(), part_size.value_or(cfg_.block_size.value_or(kDefaultAzureBlockSize)));
  if (data.size() <= bs) return put_blob(t, data, opts);
  BlockUpload up(shared_from_this(), t, opts);
  int n = 0;
  Status st;
  for (std::size_t off = 0; off < data.size() && st.ok(); off += bs) {
    st = up.send_block(++n, data.span().subspan(off, std::min(bs, data.size() - off)), nullptr);
  }
  if (st.ok()) st = up.commit(n);
  if (!st.ok()) {
    (void)up.abort();
    return st;
  }
  return ok_status();
}

// ---- streaming writer ---------------------------------------------------------------------------

Result<std::unique_ptr<ObjectWriter>> AzureStore::create_writer(std::string_view uri,
                                                                const WriterOptions& opts) {
  OMNIO_TRY(target(uri, true));
  const std::size_t block =
      opts.part_size.value_or(cfg_.block_size.value_or(kDefaultAzureBlockSize));
  if (block < kAzureMinBlockSize || block > kAzureMaxBlockSize) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("block size {} is outside Azure's limits (1 byte .. 4000 MiB)", block));
  }
  auto self = shared_from_this();
  return make_stream_writer(
      std::string(uri), opts,
      [self, opts, block](const std::string& final_uri) -> Result<std::unique_ptr<RawSink>> {
        OMNIO_ASSIGN_OR_RETURN(Target t, self->target(final_uri, true));
        auto up = std::make_shared<BlockUpload>(self, t, opts.put);
        PartSink::Ops ops;
        ops.part_size = [block](std::size_t n) { return streaming_block_size(block, n); };
        ops.start = [] { return ok_status(); };  // a staged upload has no "create" request
        ops.send_part = [up](int n, std::span<const std::byte> body,
                             std::shared_ptr<const void> owner) {
          return up->send_block(n, body, std::move(owner));
        };
        ops.complete = [up](std::uint64_t, int parts) { return up->commit(parts); };
        ops.single_put = [self, final_uri, put = opts.put](const Bytes& data) {
          return self->put(final_uri, data, put);
        };
        ops.abort = [up] { return up->abort(); };
        ops.parts_in_flight = self->config().max_blocks_in_flight;
        ops.cancel = opts.put.cancel;
        return std::unique_ptr<RawSink>(std::make_unique<PartSink>(std::move(ops)));
      });
}

// ---- server-side copy ---------------------------------------------------------------------------

Status AzureStore::copy(std::string_view src_uri, std::string_view dst_uri) {
  OMNIO_ASSIGN_OR_RETURN(Target src, target(src_uri, true));
  OMNIO_ASSIGN_OR_RETURN(Target dst, target(dst_uri, true));
  const std::string what = fmt::format("COPY {} -> {}", uri_of(src), uri_of(dst));
  // Properties first: a missing source is kNotFound, and the copy is pinned to this version.
  OMNIO_ASSIGN_OR_RETURN(ObjectMetadata m, stat(uri_of(src)));
  std::string source = blob_url(src);
  if (!sas().empty()) source += "?" + sas();
  Call c;
  c.method = "PUT";
  c.target = dst;
  c.headers.emplace_back("x-ms-copy-source", source);
  if (!m.etag.empty()) c.headers.emplace_back("x-ms-source-if-match", m.etag);
  c.what = what;
  OMNIO_ASSIGN_OR_RETURN(http::Response r, perform(std::move(c)));
  std::string status(r.header("x-ms-copy-status"));
  // Within one account Azure copies synchronously; across accounts the copy may be pending: poll.
  for (int i = 0; status == "pending"; ++i) {
    if (i == kCopyPolls) {
      return Error(ErrorCode::kDeadlineExceeded,
                   fmt::format("{}: still pending after {} polls", what, i));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100 << std::min(i, 5), 2000)));
    Call h;
    h.method = "HEAD";
    h.target = dst;
    h.what = what + " (copy status)";
    OMNIO_ASSIGN_OR_RETURN(http::Response p, perform(std::move(h)));
    status = std::string(p.header("x-ms-copy-status"));
  }
  if (!status.empty() && status != "success") {
    return Error(ErrorCode::kUnavailable,
                 fmt::format("{}: copy ended with status '{}'", what, status));
  }
  return ok_status();
}

}  // namespace omnio::azure
