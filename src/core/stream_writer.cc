#include "core/stream_writer.h"

#include <fmt/format.h>
#include <zstd.h>

#include <atomic>
#include <vector>

#include "omnio/constants.h"
#include "omnio/crc32c.h"

namespace omnio {
namespace {

class StreamWriter final : public ObjectWriter {
 public:
  StreamWriter(std::string uri, std::unique_ptr<RawSink> sink, ZSTD_CCtx* zstd)
      : uri_(std::move(uri)), sink_(std::move(sink)), zstd_(zstd) {
    if (zstd_ != nullptr) out_.resize(ZSTD_CStreamOutSize());
  }
  ~StreamWriter() override {
    if (state_ == State::kOpen) (void)sink_->abort();
    ZSTD_freeCCtx(zstd_);
  }

  Status write(std::span<const std::byte> data) override {
    if (state_ != State::kOpen) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("write to {}: the writer is already {}", uri_, state_name()));
    }
    if (positional_.load(std::memory_order_relaxed)) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("write to {}: the object is being written at offsets", uri_));
    }
    if (data.empty()) return ok_status();
    crc_ = crc32c_update(crc_, data);
    bytes_ += data.size();
    if (zstd_ == nullptr) {
      Status s = sink_->append(data);
      if (!s.ok()) return fail(std::move(s).error());
      stored_ += data.size();
      return ok_status();
    }
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    while (in.pos < in.size) {
      Status s = pump(&in, ZSTD_e_continue);
      if (!s.ok()) return s;
    }
    return ok_status();
  }

  Status finalize() override {
    if (state_ == State::kFinalized) return ok_status();
    if (state_ != State::kOpen) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("finalize {}: the writer is already {}", uri_, state_name()));
    }
    if (zstd_ != nullptr) {
      ZSTD_inBuffer in{nullptr, 0, 0};
      Status s = pump(&in, ZSTD_e_end);
      if (!s.ok()) return s;
    }
    Status s = sink_->commit();
    if (!s.ok()) {
      state_ = State::kFailed;
      return std::move(s).error().wrap(fmt::format("finalize {}", uri_));
    }
    state_ = State::kFinalized;
    return ok_status();
  }

  Status cancel() override {
    if (state_ == State::kFinalized) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("cancel {}: the writer is already finalized", uri_));
    }
    if (state_ == State::kCancelled) return ok_status();
    const bool need_abort = state_ == State::kOpen;
    state_ = State::kCancelled;
    return need_abort ? sink_->abort() : ok_status();
  }

  bool supports_write_at() const override {
    return zstd_ == nullptr && sink_->positional() && bytes_ == 0;
  }

  // Called from many threads at once: touches only the sink (thread-safe) and the atomic flag.
  Status write_at(std::uint64_t offset, std::span<const std::byte> data) override {
    if (zstd_ != nullptr || !sink_->positional()) {
      return Error(ErrorCode::kUnimplemented,
                   fmt::format("write_at {}: this writer cannot write at offsets", uri_));
    }
    if (state_ != State::kOpen || (bytes_ != 0 && !positional_)) {
      return Error(
          ErrorCode::kInvalidArgument,
          fmt::format("write_at {}: the writer is {} or not positional", uri_, state_name()));
    }
    positional_.store(true, std::memory_order_relaxed);
    Status s = sink_->write_at(offset, data);
    if (!s.ok()) return std::move(s).error().wrap(fmt::format("write {} at {}", uri_, offset));
    return ok_status();
  }

  Status set_size(std::uint64_t size) override {
    if (zstd_ != nullptr || !sink_->positional()) {
      return Error(ErrorCode::kUnimplemented,
                   fmt::format("set_size {}: this writer cannot write at offsets", uri_));
    }
    if (state_ != State::kOpen) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("set_size {}: the writer is {}", uri_, state_name()));
    }
    positional_.store(true, std::memory_order_relaxed);
    Status s = sink_->set_size(size);
    if (!s.ok()) return fail(std::move(s).error());
    bytes_ = stored_ = size;
    return ok_status();
  }

  std::uint64_t bytes_written() const override { return bytes_; }
  std::uint64_t stored_bytes() const override { return stored_; }
  std::uint32_t crc32c() const override { return crc_; }
  const std::string& uri() const override { return uri_; }

 private:
  enum class State { kOpen, kFinalized, kCancelled, kFailed };
  std::atomic<bool> positional_{false};

  const char* state_name() const {
    switch (state_) {
      case State::kOpen:
        return "open";
      case State::kFinalized:
        return "finalized";
      case State::kCancelled:
        return "cancelled";
      case State::kFailed:
        return "failed";
    }
    return "?";
  }

  // A failed append leaves the object unusable: abort so nothing partial stays behind.
  Error fail(Error e) {
    state_ = State::kFailed;
    (void)sink_->abort();
    return e.wrap(fmt::format("write {}", uri_));
  }

  Status pump(ZSTD_inBuffer* in, ZSTD_EndDirective mode) {
    for (;;) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      std::size_t left = ZSTD_compressStream2(zstd_, &out, in, mode);
      if (ZSTD_isError(left)) {
        return fail(Error(ErrorCode::kInternal,
                          fmt::format("zstd compression failed: {}", ZSTD_getErrorName(left))));
      }
      if (out.pos > 0) {
        Status s = sink_->append({out_.data(), out.pos});
        if (!s.ok()) return fail(std::move(s).error());
        stored_ += out.pos;
      }
      const bool done = mode == ZSTD_e_end ? left == 0 : in->pos == in->size;
      if (done) return ok_status();
    }
  }

  std::string uri_;
  std::unique_ptr<RawSink> sink_;
  ZSTD_CCtx* zstd_;
  std::vector<std::byte> out_;
  State state_ = State::kOpen;
  std::uint64_t bytes_ = 0;
  std::uint64_t stored_ = 0;
  std::uint32_t crc_ = 0;
};

}  // namespace

Result<std::unique_ptr<ObjectWriter>> make_stream_writer(std::string uri, const WriterOptions& opts,
                                                         const RawSinkOpener& open) {
  ZSTD_CCtx* zstd = nullptr;
  if (opts.zstd_level) {
    const int level = *opts.zstd_level;
    if (level < kMinZstdLevel || level > kMaxZstdLevel) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("zstd level {} is out of range; expected {}..{}", level,
                               kMinZstdLevel, kMaxZstdLevel));
    }
    constexpr std::string_view kExt = ".zst";
    if (uri.size() < kExt.size() || uri.compare(uri.size() - kExt.size(), kExt.size(), kExt) != 0) {
      uri += kExt;
    }
    zstd = ZSTD_createCCtx();
    if (zstd == nullptr) {
      return Error(ErrorCode::kResourceExhausted, "cannot create a zstd compression context");
    }
    ZSTD_CCtx_setParameter(zstd, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(zstd, ZSTD_c_checksumFlag, 1);
  }
  auto sink = open(uri);
  if (!sink.ok()) {
    ZSTD_freeCCtx(zstd);
    return std::move(sink).error();
  }
  return std::unique_ptr<ObjectWriter>(
      std::make_unique<StreamWriter>(std::move(uri), std::move(sink).value(), zstd));
}

}  // namespace omnio
