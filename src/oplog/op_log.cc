// The op-log writer: a bounded queue swapped out in batches by one std::jthread, which formats TSV
// lines, optionally zstd-compresses them and writes them with write(2).
#include "omnio/op_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "oplog/op_log_testing.h"

namespace omnio {
namespace {

constexpr std::string_view kHeader =
    "idx\tthread\top\tclient_id\tn_objects\tbytes\tendpoint\tfile\terror\tstart\tfirst_byte\tend\t"
    "duration_ns\n";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Escapes the characters that would break a TSV line; runs of plain characters are appended whole
// (one pass, no per-character library call: this is the writer's hottest loop).
void append_escaped(std::string& out, std::string_view s) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '\t' && c != '\n' && c != '\r' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    out += '\\';
    out += c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
}

// A small stable number per OS thread.
std::uint32_t thread_number() {
  static std::atomic<std::uint32_t> next{1};
  thread_local std::uint32_t n = next.fetch_add(1, std::memory_order_relaxed);
  return n;
}

// A queued record: numbers inline, text (op, endpoint, file, error) copied into the queue's byte
// arena. The producer therefore allocates nothing per record (amortised), and no heap block
// allocated on an I/O thread is freed on the writer thread (cross-arena frees were the largest
// part of the logging cost in the overhead benchmark).
struct Queued {
  std::uint32_t thread;
  std::uint32_t op_len, endpoint_len, file_len, error_len;
  std::size_t text_offset;
  std::uint64_t n_objects, bytes;
  std::chrono::steady_clock::time_point start, end, first_byte;
  bool has_first_byte;
};

// The writer's output buffer: lines are formatted straight into reserved space at its end
// (tail() / commit()), with no zero-filling and no per-character capacity checks.
class LineBuffer {
 public:
  const char* data() const { return buf_.get(); }
  std::size_t size() const { return size_; }
  void clear() { size_ = 0; }
  // Room for `n` more bytes; write them at the returned pointer, then commit() how many.
  char* tail(std::size_t n) {
    if (size_ + n > cap_) {
      const std::size_t cap = std::max(size_ + n, cap_ * 2);
      auto bigger = std::make_unique_for_overwrite<char[]>(cap);
      if (size_ > 0) std::memcpy(bigger.get(), buf_.get(), size_);
      buf_ = std::move(bigger);
      cap_ = cap;
    }
    return buf_.get() + size_;
  }
  void commit(std::size_t n) { size_ += n; }
  void append(std::string_view s) {
    if (s.empty()) return;  // data() may be null
    std::memcpy(tail(s.size()), s.data(), s.size());
    commit(s.size());
  }
  operator std::string_view() const { return {data(), size_}; }

 private:
  std::unique_ptr<char[]> buf_;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

struct Batch {
  std::vector<Queued> records;
  LineBuffer text;  // the records' strings, back to back (no zero-fill, one capacity check)
  void clear() {
    records.clear();
    text.clear();
  }
};

}  // namespace

bool split_uri_for_log_view(std::string_view uri, std::string_view* endpoint,
                            std::string_view* file) {
  uri = uri.substr(0, uri.find('?'));
  const auto sep = uri.find("://");
  if (sep == std::string_view::npos) {
    *endpoint = {};
    *file = uri;
    return true;
  }
  auto auth_end = uri.find('/', sep + 3);
  if (auth_end == std::string_view::npos) auth_end = uri.size();
  if (uri.substr(sep + 3, auth_end - sep - 3).find('@') != std::string_view::npos) return false;
  *endpoint = uri.substr(0, auth_end);
  *file = uri.substr(auth_end);
  return true;
}

std::pair<std::string, std::string> split_uri_for_log(std::string_view uri) {
  uri = uri.substr(0, uri.find('?'));
  const auto sep = uri.find("://");
  if (sep == std::string_view::npos) return {"", std::string(uri)};
  const auto auth_begin = sep + 3;
  auto auth_end = uri.find('/', auth_begin);
  if (auth_end == std::string_view::npos) auth_end = uri.size();
  std::string_view auth = uri.substr(auth_begin, auth_end - auth_begin);
  if (const auto at = auth.rfind('@'); at != std::string_view::npos) auth.remove_prefix(at + 1);
  std::string endpoint;
  endpoint.reserve(auth_begin + auth.size());
  endpoint.append(uri.substr(0, auth_begin)).append(auth);
  return {std::move(endpoint), std::string(uri.substr(auth_end))};
}

std::string redact_userinfo(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto sep = text.find("://", i);
    if (sep == std::string_view::npos) break;
    const auto auth_begin = sep + 3;
    out.append(text.substr(i, auth_begin - i));
    // The authority ends at the first '/', whitespace or quote; userinfo is what precedes an '@'.
    auto auth_end = text.find_first_of("/ \t\n\"'?", auth_begin);
    if (auth_end == std::string_view::npos) auth_end = text.size();
    const auto at = text.substr(auth_begin, auth_end - auth_begin).rfind('@');
    i = at == std::string_view::npos ? auth_begin : auth_begin + at + 1;
  }
  out.append(text.substr(i));
  return out;
}

std::string format_rfc3339_ns(std::int64_t unix_ns) {
  std::int64_t secs = unix_ns / 1000000000;
  std::int64_t frac = unix_ns % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

Result<std::int64_t> parse_rfc3339_ns(std::string_view s) {
  auto bad = [&] {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("bad RFC 3339 time '{}' (expected 2026-11-30T10:56:16.123456789Z)", s));
  };
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  std::tm tm{};
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' ||
      !num(8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !num(11, 2, h) ||
      s[13] != ':' || !num(14, 2, mi) || s[16] != ':' || !num(17, 2, sec)) {
    return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return bad();
  std::size_t i = 19;
  std::int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 9) {
        frac = frac * 10 + (s[i] - '0');
        ++digits;
      }
      ++i;
    }
    if (digits == 0) return bad();
    for (; digits < 9; ++digits) frac *= 10;
  }
  std::int64_t offset_s = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size()) {
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh, om;
    if (!num(i + 1, 2, oh) || !num(i + 4, 2, om)) return bad();
    offset_s = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return bad();
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  const std::int64_t t = static_cast<std::int64_t>(::timegm(&tm)) - offset_s;
  return t * 1000000000 + frac;
}

Status OpLogOptions::validate() const {
  if (path.empty()) return Error(ErrorCode::kInvalidArgument, "op_log.path is empty");
  if (queue_capacity == 0) {
    return Error(ErrorCode::kInvalidArgument, "op_log.queue_capacity must be >= 1");
  }
  if (block_timeout.count() < 0) {
    return Error(ErrorCode::kInvalidArgument, "op_log.block_timeout must be >= 0");
  }
  if (zstd_level < kMinOpLogZstdLevel || zstd_level > kMaxZstdLevel) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("op_log.zstd_level {} is outside {}..{}", zstd_level,
                             kMinOpLogZstdLevel, kMaxZstdLevel));
  }
  return ok_status();
}

struct OpLog::Impl {
  OpLogOptions options;
  int fd = -1;
  ZSTD_CCtx* zstd = nullptr;
  // Wall clock at `anchor_steady`: every steady time point is logged as anchor_wall + (t - anchor).
  std::int64_t anchor_wall_ns = 0;
  std::chrono::steady_clock::time_point anchor_steady;
  std::string client_id_escaped;

  std::mutex mu;
  std::condition_variable writer_cv;  // work for the writer
  std::condition_variable space_cv;   // room in the queue
  Batch queue;
  bool closing = false;
  bool writer_waiting = false;
  bool paused = false;  // tests only (op_log_testing.h)
  std::jthread writer;

  std::mutex close_mu;
  bool closed = false;
  Status close_status;

  // Writer-thread state.
  std::uint64_t next_idx = 0;
  LineBuffer text;   // formatted lines not yet compressed / written
  std::string zbuf;  // compressed output
  std::optional<Error> write_error;

  std::int64_t wall_ns(std::chrono::steady_clock::time_point t) const {
    return anchor_wall_ns +
           std::chrono::duration_cast<std::chrono::nanoseconds>(t - anchor_steady).count();
  }

  Status write_all(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::write(fd, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_error(errno, fmt::format("op-log {}: write", options.path));
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return ok_status();
  }

  // Compresses (or passes through) `text` and writes it. `end` finishes the zstd frame; otherwise
  // the frame is flushed so everything written so far can be decoded.
  Status emit(ZSTD_EndDirective mode) {
    if (zstd == nullptr) {
      Status s = write_all(text);
      text.clear();
      return s;
    }
    ZSTD_inBuffer in{text.data(), text.size(), 0};
    zbuf.resize(ZSTD_CStreamOutSize());
    for (;;) {
      ZSTD_outBuffer out{zbuf.data(), zbuf.size(), 0};
      const std::size_t rem = ZSTD_compressStream2(zstd, &out, &in, mode);
      if (ZSTD_isError(rem)) {
        text.clear();
        return Error(ErrorCode::kInternal,
                     fmt::format("op-log {}: zstd: {}", options.path, ZSTD_getErrorName(rem)));
      }
      OMNIO_TRY(write_all(std::string_view(zbuf.data(), out.pos)));
      if (in.pos == in.size && rem == 0) break;
    }
    text.clear();
    return ok_status();
  }

  // The formatters below write through a raw pointer into space reserved for the whole line
  // (line_bound()): no per-character capacity checks, which were most of the writer's cost.
  static constexpr std::size_t kTimePrefixLen = 20;             // "2026-11-30T10:56:16."
  static constexpr std::size_t kTimeLen = kTimePrefixLen + 10;  // + 9 digits + 'Z'

  // "YYYY-MM-DDTHH:MM:SS." of the last second formatted: gmtime_r and fmt run once per second of
  // log time, not three times per line (the writer's main cost otherwise).
  std::int64_t cached_second = INT64_MIN;
  char cached_prefix[kTimePrefixLen] = {};

  static std::size_t line_bound(const Queued& r, std::size_t client_id_len) {
    // 5 numbers of <= 20 digits, 3 times, 13 separators; escaped text at most doubles.
    return 5 * 20 + 3 * kTimeLen + 13 + r.op_len + client_id_len +
           2 * (std::size_t{r.endpoint_len} + r.file_len + r.error_len);
  }

  char* put_time(char* p, std::chrono::steady_clock::time_point t) {
    const std::int64_t ns = wall_ns(t);
    std::int64_t sec = ns / 1000000000, frac = ns % 1000000000;
    if (frac < 0) {
      frac += 1000000000;
      --sec;
    }
    if (sec != cached_second) {
      const std::string full = format_rfc3339_ns(sec * 1000000000);
      std::memcpy(cached_prefix, full.data(), kTimePrefixLen);
      cached_second = sec;
    }
    std::memcpy(p, cached_prefix, kTimePrefixLen);
    p += kTimePrefixLen;
    for (int i = 8; i >= 0; --i, frac /= 10) p[i] = static_cast<char>('0' + frac % 10);
    p[9] = 'Z';
    return p + 10;
  }

  static char* put_number(char* p, std::uint64_t v) {
    const fmt::format_int f(v);
    std::memcpy(p, f.data(), f.size());
    return p + f.size();
  }

  static char* put_text(char* p, std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    return p + s.size();
  }

  // Escapes \t \n \r and backslash (see op_log.h); plain runs are copied whole.
  static char* put_escaped(char* p, std::string_view s) {
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (c != '\t' && c != '\n' && c != '\r' && c != '\\') [[likely]]
        continue;
      p = put_text(p, s.substr(run, i - run));
      *p++ = '\\';
      *p++ = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
      run = i + 1;
    }
    return put_text(p, s.substr(run));
  }

  void format(const Queued& r, std::string_view strings) {
    std::string_view all(strings);
    all.remove_prefix(r.text_offset);
    const std::string_view op = all.substr(0, r.op_len);
    all.remove_prefix(r.op_len);
    const std::string_view endpoint = all.substr(0, r.endpoint_len);
    all.remove_prefix(r.endpoint_len);
    const std::string_view file = all.substr(0, r.file_len);
    all.remove_prefix(r.file_len);
    const std::string_view error = all.substr(0, r.error_len);

    char* const begin = text.tail(line_bound(r, client_id_escaped.size()));
    char* p = begin;
    p = put_number(p, next_idx++);
    *p++ = '\t';
    p = put_number(p, r.thread);
    *p++ = '\t';
    p = put_text(p, op);
    *p++ = '\t';
    p = put_text(p, client_id_escaped);
    *p++ = '\t';
    p = put_number(p, r.n_objects);
    *p++ = '\t';
    p = put_number(p, r.bytes);
    *p++ = '\t';
    p = put_escaped(p, endpoint);
    *p++ = '\t';
    p = put_escaped(p, file);
    *p++ = '\t';
    p = put_escaped(p, error);
    *p++ = '\t';
    p = put_time(p, r.start);
    *p++ = '\t';
    if (r.has_first_byte) p = put_time(p, r.first_byte);
    *p++ = '\t';
    p = put_time(p, r.end);
    *p++ = '\t';
    const auto dur = std::chrono::duration_cast<std::chrono::nanoseconds>(r.end - r.start).count();
    p = put_number(p, static_cast<std::uint64_t>(std::max<std::int64_t>(dur, 0)));
    *p++ = '\n';
    text.commit(static_cast<std::size_t>(p - begin));
  }

  // Formats and writes one batch; returns how many records reached the file.
  std::uint64_t write_batch(const Batch& b, std::atomic<std::uint64_t>& dropped) {
    const auto& batch = b.records;
    if (write_error) {
      dropped.fetch_add(batch.size(), std::memory_order_relaxed);
      return 0;
    }
    for (const Queued& q : batch) {
      format(q, b.text);
      if (text.size() >= kOpLogWriteBufferSize) {
        if (Status s = emit(ZSTD_e_continue); !s.ok()) {
          write_error = s.error();
          // Everything in this batch counts as lost: we cannot tell which lines reached the disk.
          dropped.fetch_add(batch.size(), std::memory_order_relaxed);
          return 0;
        }
      }
    }
    if (Status s = emit(ZSTD_e_flush); !s.ok()) {
      write_error = s.error();
      dropped.fetch_add(batch.size(), std::memory_order_relaxed);
      return 0;
    }
    return batch.size();
  }

  void run(OpLog& log, std::stop_token) {
    Batch batch;
    batch.records.reserve(options.queue_capacity);
    for (;;) {
      bool last = false;
      {
        std::unique_lock lock(mu);
        writer_waiting = true;
        writer_cv.wait_for(lock, kOpLogFlushInterval, [&] {
          return closing ||
                 (!paused && queue.records.size() * kOpLogWakeDivisor >= options.queue_capacity);
        });
        writer_waiting = false;
        if (paused && !closing) continue;
        std::swap(batch, queue);
        last = closing;
      }
      space_cv.notify_all();
      if (!batch.records.empty()) {
        log.written_.fetch_add(write_batch(batch, log.dropped_), std::memory_order_relaxed);
        batch.clear();
      }
      if (last) return;
    }
  }
};

OpLog::OpLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::shared_ptr<OpLog>> OpLog::open(const OpLogOptions& options) {
  OMNIO_TRY(options.validate());
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->fd = ::open(options.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (impl->fd < 0) return errno_error(errno, fmt::format("op-log {}: open", options.path));
  if (ends_with(options.path, ".zst")) {
    impl->zstd = ZSTD_createCCtx();
    if (impl->zstd == nullptr) {
      ::close(impl->fd);
      return Error(ErrorCode::kResourceExhausted, "op-log: cannot create a zstd context");
    }
    ZSTD_CCtx_setParameter(impl->zstd, ZSTD_c_compressionLevel, options.zstd_level);
    ZSTD_CCtx_setParameter(impl->zstd, ZSTD_c_checksumFlag, 1);
    if (options.zstd_level <= kOpLogZstdTunedUpTo) {
      ZSTD_CCtx_setParameter(impl->zstd, ZSTD_c_hashLog, kOpLogZstdHashLog);
      ZSTD_CCtx_setParameter(impl->zstd, ZSTD_c_windowLog, kOpLogZstdWindowLog);
    }
  }
  append_escaped(impl->client_id_escaped, options.client_id);
  impl->anchor_steady = std::chrono::steady_clock::now();
  impl->anchor_wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  impl->queue.records.reserve(options.queue_capacity);
  impl->text.tail(kOpLogWriteBufferSize + 64 * kKiB);
  impl->text.append(kHeader);
  if (Status s = impl->emit(ZSTD_e_flush); !s.ok()) {
    if (impl->zstd) ZSTD_freeCCtx(impl->zstd);
    ::close(impl->fd);
    return s.error();
  }
  std::shared_ptr<OpLog> log(new OpLog(std::move(impl)));
  OpLog* raw = log.get();
  log->impl_->writer = std::jthread([raw](std::stop_token st) { raw->impl_->run(*raw, st); });
  pthread_setname_np(log->impl_->writer.native_handle(), "omnio-oplog");
  return log;
}

OpLog::~OpLog() { (void)close(); }

const std::string& OpLog::path() const { return impl_->options.path; }

void OpLog::record(OpRecord rec) {
  OpRecordView v;
  v.op = rec.op;
  v.endpoint = rec.endpoint;
  v.file = rec.file;
  v.error = rec.error;
  v.n_objects = rec.n_objects;
  v.bytes = rec.bytes;
  v.start = rec.start;
  v.first_byte = rec.first_byte;
  v.end = rec.end;
  record(v);
}

void OpLog::record(const OpRecordView& rec) {
  Impl& im = *impl_;
  const std::uint32_t thread = thread_number();
  std::unique_lock lock(im.mu);
  auto& q = im.queue.records;
  if (q.size() >= im.options.queue_capacity && !im.closing) {
    im.writer_cv.notify_one();
    auto has_room = [&] { return im.closing || q.size() < im.options.queue_capacity; };
    if (im.options.lossless) {
      im.space_cv.wait(lock, has_room);
    } else {
      im.space_cv.wait_for(lock, im.options.block_timeout, has_room);
    }
  }
  if (im.closing || q.size() >= im.options.queue_capacity) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  LineBuffer& text = im.queue.text;
  Queued e;
  e.thread = thread;
  e.text_offset = text.size();
  e.op_len = static_cast<std::uint32_t>(rec.op.size());
  e.endpoint_len = static_cast<std::uint32_t>(rec.endpoint.size());
  e.file_len = static_cast<std::uint32_t>(rec.file.size());
  e.error_len = static_cast<std::uint32_t>(rec.error.size());
  const std::size_t n = rec.op.size() + rec.endpoint.size() + rec.file.size() + rec.error.size();
  char* p = text.tail(n);
  for (std::string_view part : {rec.op, rec.endpoint, rec.file, rec.error}) {
    if (part.empty()) continue;  // data() may be null (an empty error): memcpy must not see it
    std::memcpy(p, part.data(), part.size());
    p += part.size();
  }
  text.commit(n);
  e.n_objects = rec.n_objects;
  e.bytes = rec.bytes;
  e.start = rec.start;
  e.end = rec.end;
  e.has_first_byte = rec.first_byte.has_value();
  e.first_byte = rec.first_byte.value_or(rec.start);
  q.push_back(e);
  // Wake the writer only at 1/kOpLogWakeDivisor full: a notify per record would cost a futex call
  // per operation.
  if (im.writer_waiting && !im.paused &&
      q.size() * kOpLogWakeDivisor >= im.options.queue_capacity) {
    lock.unlock();
    im.writer_cv.notify_one();
  }
}

Status OpLog::close() {
  Impl& im = *impl_;
  std::lock_guard close_lock(im.close_mu);
  if (im.closed) return im.close_status;
  im.closed = true;
  {
    std::lock_guard lock(im.mu);
    im.closing = true;
  }
  im.writer_cv.notify_all();
  im.space_cv.notify_all();
  if (im.writer.joinable()) im.writer.join();
  Status st = ok_status();
  if (im.write_error) {
    st = *im.write_error;
  } else {
    im.text.append(fmt::format("# omnio-op-log records={} dropped={}\n", written(), dropped()));
    st = im.emit(ZSTD_e_end);
  }
  if (im.zstd != nullptr) {
    ZSTD_freeCCtx(im.zstd);
    im.zstd = nullptr;
  }
  if (::close(im.fd) != 0 && st.ok()) {
    st = errno_error(errno, fmt::format("op-log {}: close", im.options.path));
  }
  im.fd = -1;
  im.close_status = st;
  return st;
}

void OpLogTestAccess::set_writer_paused(OpLog& log, bool paused) {
  {
    std::lock_guard lock(log.impl_->mu);
    log.impl_->paused = paused;
  }
  log.impl_->writer_cv.notify_all();
}

std::size_t OpLogTestAccess::queued(OpLog& log) {
  std::lock_guard lock(log.impl_->mu);
  return log.impl_->queue.records.size();
}

}  // namespace omnio
