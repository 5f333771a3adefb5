// LoggedStore: forwards every call to the wrapped store and records it once in an OpLog.
#include "omnio/logged_store.h"

#include <atomic>
#include <tuple>

namespace omnio {
namespace {

using Clock = std::chrono::steady_clock;

// One operation being timed; commit() fills the remaining columns and queues the record. The URI
// columns are views into the caller's URI (valid for the call) unless `own` is set (a writer that
// outlives the call) or the URI carries userinfo, which split_uri_for_log() removes.
class Op {
 public:
  Op(OpLog& log, std::string_view op, std::string_view uri, bool own = false)
      : log_(log), op_(op), start_(Clock::now()) {
    if (own || !split_uri_for_log_view(uri, &endpoint_, &file_)) {
      std::tie(owned_endpoint_, owned_file_) = split_uri_for_log(uri);
      endpoint_ = owned_endpoint_;
      file_ = owned_file_;
    }
  }
  Op(const Op&) = delete;
  Op& operator=(const Op&) = delete;

  Clock::time_point start() const { return start_; }
  void set_first_byte(Clock::time_point t) { first_byte_ = t; }
  void commit(const Error* error, std::uint64_t bytes, std::uint64_t n_objects = 1) {
    OpRecordView v;
    v.end = Clock::now();
    v.op = op_;
    v.endpoint = endpoint_;
    v.file = file_;
    v.start = start_;
    v.first_byte = first_byte_;
    v.bytes = bytes;
    v.n_objects = n_objects;
    std::string message;
    if (error != nullptr) {
      message = redact_userinfo(error->to_string());
      v.error = message;
    }
    log_.record(v);
  }

 private:
  OpLog& log_;
  std::string_view op_;
  Clock::time_point start_;
  std::optional<Clock::time_point> first_byte_;
  std::string_view endpoint_, file_;
  std::string owned_endpoint_, owned_file_;
};

template <typename T>
const Error* error_of(const Result<T>& r) {
  return r.ok() ? nullptr : &r.error();
}

// The writer of a logged create_writer(): one PUT line when it is finalized, cancelled or dropped.
class LoggedWriter final : public ObjectWriter {
 public:
  LoggedWriter(std::unique_ptr<ObjectWriter> inner, std::shared_ptr<OpLog> log, std::string uri)
      : inner_(std::move(inner)), log_(std::move(log)), op_(*log_, "PUT", uri, /*own=*/true) {}
  ~LoggedWriter() override {
    if (!logged_) {
      Error e(ErrorCode::kCancelled, "writer destroyed before finalize()");
      log_once(&e);
    }
  }
  Status write(std::span<const std::byte> data) override { return inner_->write(data); }
  Status finalize() override {
    Status s = inner_->finalize();
    log_once(error_of(s));
    return s;
  }
  Status cancel() override {
    Status s = inner_->cancel();
    Error e(ErrorCode::kCancelled, "writer cancelled");
    log_once(&e);
    return s;
  }
  std::uint64_t bytes_written() const override { return inner_->bytes_written(); }
  std::uint64_t stored_bytes() const override { return inner_->stored_bytes(); }
  std::uint32_t crc32c() const override { return inner_->crc32c(); }
  bool supports_write_at() const override { return inner_->supports_write_at(); }
  Status write_at(std::uint64_t offset, std::span<const std::byte> data) override {
    return inner_->write_at(offset, data);
  }
  Status set_size(std::uint64_t size) override { return inner_->set_size(size); }
  const std::string& uri() const override { return inner_->uri(); }

 private:
  void log_once(const Error* e) {
    if (logged_) return;
    logged_ = true;
    op_.commit(e, inner_->bytes_written());
  }
  std::unique_ptr<ObjectWriter> inner_;
  std::shared_ptr<OpLog> log_;
  Op op_;
  bool logged_ = false;
};

class LoggedStore final : public ObjectStore {
 public:
  LoggedStore(std::shared_ptr<ObjectStore> inner, std::shared_ptr<OpLog> log)
      : inner_(std::move(inner)), log_(std::move(log)) {}

  std::string_view scheme() const override { return inner_->scheme(); }

  Result<Bytes> get(std::string_view uri, const ReadOptions& opts) override {
    Op op(*log_, "GET", uri);
    auto r = inner_->get(uri, opts);
    op.commit(error_of(r), r.ok() ? r->size() : 0);
    return r;
  }

  Result<Bytes> get_range(std::string_view uri, std::uint64_t offset,
                          std::optional<std::uint64_t> length, const ReadOptions& opts) override {
    Op op(*log_, "GET_RANGE", uri);
    auto r = inner_->get_range(uri, offset, length, opts);
    op.commit(error_of(r), r.ok() ? r->size() : 0);
    return r;
  }

  Result<std::uint64_t> get_into(std::string_view uri, std::uint64_t offset,
                                 std::span<std::byte> dest, const ReadOptions& opts) override {
    Op op(*log_, "GET_RANGE", uri);
    auto r = inner_->get_into(uri, offset, dest, opts);
    op.commit(error_of(r), r.ok() ? *r : 0);
    return r;
  }

  Result<Bytes> get_with_buffer(std::string_view uri, const BufferSource& buffer_for,
                                const ReadOptions& opts) override {
    Op op(*log_, "GET", uri);
    auto r = inner_->get_with_buffer(uri, buffer_for, opts);
    op.commit(error_of(r), r.ok() ? r->size() : 0);
    return r;
  }

  Status get_to_sink(std::string_view uri, const ChunkSink& sink,
                     const ReadOptions& opts) override {
    Op op(*log_, "GET", uri);
    std::uint64_t bytes = 0;
    bool first = true;
    // Chunks arrive in order, one at a time (RangeEngine's download_to_sink contract).
    Status s = inner_->get_to_sink(
        uri,
        [&](std::uint64_t offset, Bytes chunk) {
          if (first) {
            op.set_first_byte(Clock::now());
            first = false;
          }
          bytes += chunk.size();
          return sink(offset, std::move(chunk));
        },
        opts);
    op.commit(error_of(s), bytes);
    return s;
  }

  Result<std::uint64_t> get_positional(std::string_view uri, const PositionalWriter& writer,
                                       const ReadOptions& opts) override {
    Op op(*log_, "GET", uri);
    std::atomic<bool> first{true};
    auto r = inner_->get_positional(
        uri,
        [&](std::uint64_t offset, std::span<const std::byte> data) {
          if (first.exchange(false, std::memory_order_relaxed)) op.set_first_byte(Clock::now());
          return writer(offset, data);
        },
        opts);
    op.commit(error_of(r), r.ok() ? *r : 0);
    return r;
  }

  Status put(std::string_view uri, const Bytes& data, const PutOptions& opts) override {
    Op op(*log_, "PUT", uri);
    Status s = inner_->put(uri, data, opts);
    op.commit(error_of(s), data.size());
    return s;
  }

  Status put_multipart(std::string_view uri, const Bytes& data,
                       std::optional<std::size_t> part_size, const PutOptions& opts) override {
    Op op(*log_, "PUT", uri);
    Status s = inner_->put_multipart(uri, data, part_size, opts);
    op.commit(error_of(s), data.size());
    return s;
  }

  Result<std::unique_ptr<ObjectWriter>> create_writer(std::string_view uri,
                                                      const WriterOptions& opts) override {
    auto w = inner_->create_writer(uri, opts);
    if (!w.ok()) {
      Op op(*log_, "PUT", uri);
      op.commit(&w.error(), 0);
      return w;
    }
    // The line names the object actually written (uri + ".zst" when compressing).
    std::string final_uri = (*w)->uri();
    return std::unique_ptr<ObjectWriter>(
        std::make_unique<LoggedWriter>(std::move(*w), log_, std::move(final_uri)));
  }

  Result<std::vector<ListEntry>> list_entries(std::string_view prefix_uri,
                                              bool recursive) override {
    Op op(*log_, "LIST", prefix_uri);
    auto r = inner_->list_entries(prefix_uri, recursive);
    op.commit(error_of(r), 0, r.ok() ? r->size() : 0);
    return r;
  }

  Status list_stream(std::string_view prefix_uri, bool recursive, const ListSink& sink,
                     const CancellationToken& cancel = {}) override {
    return logged_list(prefix_uri, sink, [&](const ListSink& counted) {
      return inner_->list_stream(prefix_uri, recursive, counted, cancel);
    });
  }

  Status list_keys_stream(std::string_view prefix_uri, bool recursive, const ListSink& sink,
                          const CancellationToken& cancel = {}) override {
    return logged_list(prefix_uri, sink, [&](const ListSink& counted) {
      return inner_->list_keys_stream(prefix_uri, recursive, counted, cancel);
    });
  }

  Result<ObjectMetadata> stat(std::string_view uri) override {
    Op op(*log_, "STAT", uri);
    auto r = inner_->stat(uri);
    op.commit(error_of(r), r.ok() ? r->size : 0);
    return r;
  }

  Status delete_object(std::string_view uri) override {
    return logged("DELETE", uri, [&] { return inner_->delete_object(uri); });
  }

  Result<std::uint64_t> delete_prefix(std::string_view prefix_uri) override {
    Op op(*log_, "DELETE_PREFIX", prefix_uri);
    auto r = inner_->delete_prefix(prefix_uri);
    op.commit(error_of(r), 0, r.ok() ? *r : 0);
    return r;
  }

  // delete_objects keeps the default (one logged DELETE per object, as replay expects).
  Result<BatchReport> delete_prefix_report(std::string_view prefix_uri,
                                           const CancellationToken& cancel) override {
    Op op(*log_, "DELETE_PREFIX", prefix_uri);
    auto r = inner_->delete_prefix_report(prefix_uri, cancel);
    const Error* err = error_of(r);
    Status batch = r.ok() ? r->status("DELETE_PREFIX " + std::string(prefix_uri)) : ok_status();
    if (err == nullptr && !batch.ok()) err = &batch.error();
    op.commit(err, 0, r.ok() ? r->succeeded : 0);
    return r;
  }

  Status create_container(std::string_view uri) override {
    return logged("CREATE_CONTAINER", uri, [&] { return inner_->create_container(uri); });
  }

  Status delete_container(std::string_view uri) override {
    return logged("DELETE_CONTAINER", uri, [&] { return inner_->delete_container(uri); });
  }

  Result<std::vector<std::string>> list_containers(std::string_view root_uri) override {
    Op op(*log_, "LIST_CONTAINERS", root_uri);
    auto r = inner_->list_containers(root_uri);
    op.commit(error_of(r), 0, r.ok() ? r->size() : 0);
    return r;
  }

  Status copy(std::string_view src_uri, std::string_view dst_uri) override {
    return logged("COPY", src_uri, [&] { return inner_->copy(src_uri, dst_uri); });
  }

  Status rename(std::string_view src_uri, std::string_view dst_uri) override {
    return logged("RENAME", src_uri, [&] { return inner_->rename(src_uri, dst_uri); });
  }

 private:
  // An operation that moves no payload: one line with bytes = 0.
  template <typename F>
  Status logged(const char* name, std::string_view uri, F&& call) {
    Op op(*log_, name, uri);
    Status s = call();
    op.commit(error_of(s), 0);
    return s;
  }

  // A streamed listing: one LIST line counting the entries handed to `sink`.
  template <typename F>
  Status logged_list(std::string_view prefix_uri, const ListSink& sink, F&& list) {
    Op op(*log_, "LIST", prefix_uri);
    std::uint64_t n = 0;
    Status s = list([&](ListEntry&& e) {
      ++n;
      return sink(std::move(e));
    });
    op.commit(error_of(s), 0, n);
    return s;
  }

  std::shared_ptr<ObjectStore> inner_;
  std::shared_ptr<OpLog> log_;
};

}  // namespace

std::shared_ptr<ObjectStore> with_op_log(std::shared_ptr<ObjectStore> store,
                                         std::shared_ptr<OpLog> log) {
  if (log == nullptr || store == nullptr) return store;
  return std::make_shared<LoggedStore>(std::move(store), std::move(log));
}

}  // namespace omnio
