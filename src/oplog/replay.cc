// replay(): two streaming passes over the log, a reorder window, a dispatcher that waits for each
// operation's time, and a fixed set of workers fed through a bounded queue.
#include "omnio/replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <queue>
#include <thread>

#include "omnio/datagen.h"
#include "omnio/op_log_reader.h"
#include "omnio/store_factory.h"

namespace omnio {
namespace {

using Clock = std::chrono::steady_clock;

enum class Kind {
  kGet,
  kGetRange,
  kPut,
  kStat,
  kList,
  kDelete,
  kDeletePrefix,
  kCreateContainer,
  kDeleteContainer,
  kSkip
};

struct KnownOp {
  std::string_view name;
  Kind kind;
};
constexpr std::array<KnownOp, 13> kKnownOps = {{
    {"GET", Kind::kGet},
    {"GET_RANGE", Kind::kGetRange},
    {"PUT", Kind::kPut},
    {"STAT", Kind::kStat},
    {"HEAD", Kind::kStat},
    {"LIST", Kind::kList},
    {"DELETE", Kind::kDelete},
    {"DELETE_PREFIX", Kind::kDeletePrefix},
    {"CREATE_CONTAINER", Kind::kCreateContainer},
    {"DELETE_CONTAINER", Kind::kDeleteContainer},
    {"COPY", Kind::kSkip},
    {"RENAME", Kind::kSkip},
    {"LIST_CONTAINERS", Kind::kSkip},
}};

std::optional<Kind> kind_of(std::string_view op) {
  for (const auto& k : kKnownOps) {
    if (k.name == op) return k.kind;
  }
  return std::nullopt;
}

std::string known_op_names() {
  std::string s;
  for (const auto& k : kKnownOps) s += (s.empty() ? "" : ", ") + std::string(k.name);
  return s;
}

// Log-scale histogram of drifts: 4 buckets per power of two of nanoseconds.
class DriftHistogram {
 public:
  void add(std::int64_t ns) {
    ns = std::max<std::int64_t>(ns, 0);
    ++count_;
    sum_ += static_cast<double>(ns);
    max_ = std::max(max_, ns);
    const double l = ns <= 1 ? 0 : std::log2(static_cast<double>(ns)) * 4;
    ++buckets_[std::min<std::size_t>(static_cast<std::size_t>(l), buckets_.size() - 1)];
  }
  std::int64_t mean() const { return count_ ? static_cast<std::int64_t>(sum_ / count_) : 0; }
  std::int64_t max() const { return max_; }
  // Upper bound of the bucket holding the q-quantile, capped at the maximum seen.
  std::int64_t quantile(double q) const {
    if (count_ == 0) return 0;
    const auto want = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen >= want) {
        return static_cast<std::int64_t>(
            std::min(static_cast<double>(max_), std::exp2(static_cast<double>(i + 1) / 4.0)));
      }
    }
    return max_;
  }

 private:
  std::array<std::uint64_t, 256> buckets_{};
  std::uint64_t count_ = 0;
  double sum_ = 0;
  std::int64_t max_ = 0;
};

struct Task {
  OpLogEntry entry;
  Kind kind = Kind::kSkip;
  std::string uri;
  Clock::time_point scheduled;
};

struct ByStart {
  bool operator()(const Task& a, const Task& b) const {
    if (a.entry.start_ns != b.entry.start_ns) return a.entry.start_ns > b.entry.start_ns;
    return a.entry.line > b.entry.line;
  }
};

std::string common_dir_prefix(std::string_view a, std::string_view b) {
  std::size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return std::string(a.substr(0, n));
}

class Replayer {
 public:
  explicit Replayer(const ReplayOptions& o) : opts_(o), stop_(o.cancel.child()) {}

  Result<ReplayReport> run() {
    OMNIO_TRY(opts_.validate());
    OMNIO_TRY(first_pass());
    if (included_ == 0) return report_;
    return second_pass();
  }

 private:
  bool wanted(const std::string& op) const {
    if (opts_.ops.empty()) return true;
    return std::find(opts_.ops.begin(), opts_.ops.end(), op) != opts_.ops.end() ||
           (op == "HEAD" &&
            std::find(opts_.ops.begin(), opts_.ops.end(), "STAT") != opts_.ops.end());
  }

  Status first_pass() {
    OMNIO_ASSIGN_OR_RETURN(auto reader, OpLogReader::open(opts_.log_path));
    std::optional<std::string> common;
    for (;;) {
      OMNIO_ASSIGN_OR_RETURN(auto e, reader.next());
      if (!e) break;
      auto kind = kind_of(e->op);
      if (!kind) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("op-log {} line {}: unknown op '{}' (known: {})", opts_.log_path,
                                 e->line, e->op, known_op_names()));
      }
      if (!wanted(e->op) || *kind == Kind::kSkip) continue;
      const std::string uri = e->uri();
      if (opts_.target && opts_.source && uri.rfind(*opts_.source, 0) != 0) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("op-log {} line {}: {} is not under --source {}", opts_.log_path,
                                 e->line, uri, *opts_.source));
      }
      common = common ? common_dir_prefix(*common, uri) : uri;
      if (included_ == 0 || e->start_ns < first_start_) first_start_ = e->start_ns;
      if (included_ == 0 || e->start_ns > last_start_) last_start_ = e->start_ns;
      ++included_;
    }
    report_.log_records =
        reader.trailer() ? std::optional(reader.trailer()->records) : std::nullopt;
    report_.log_dropped =
        reader.trailer() ? std::optional(reader.trailer()->dropped) : std::nullopt;
    if (opts_.target) {
      if (opts_.source) {
        source_ = *opts_.source;
      } else if (common) {
        // Cut after the last '/' so a partial name ("img_0") is never part of the prefix.
        const auto slash = common->find_last_of('/');
        source_ = slash == std::string::npos ? "" : common->substr(0, slash + 1);
      }
      target_ = *opts_.target;
      if (!source_.empty() && source_.back() == '/' && (target_.empty() || target_.back() != '/')) {
        target_ += '/';
      }
      report_.source_prefix = source_;
      report_.target_prefix = target_;
    }
    report_.scheduled_span_ns = scaled_ns(last_start_ - first_start_);
    return ok_status();
  }

  // An offset of the log divided by speed, in ns, clamped to [0, ~127 years] so a tiny speed cannot
  // overflow a time point (the replay then just waits, cancellably).
  std::int64_t scaled_ns(std::int64_t log_ns) const {
    constexpr double kMax = 4e18;
    const double v = static_cast<double>(std::max<std::int64_t>(log_ns, 0)) / opts_.speed;
    return static_cast<std::int64_t>(std::min(v, kMax));
  }

  std::string retarget(const std::string& uri) const {
    if (!opts_.target) return uri;
    return target_ + uri.substr(source_.size());
  }

  Result<std::shared_ptr<ObjectStore>> store_for(const std::string& uri) {
    std::lock_guard lock(stores_mu_);
    const std::string scheme = uri.substr(0, uri.find("://"));
    auto it = stores_.find(scheme);
    if (it != stores_.end()) return it->second;
    OMNIO_ASSIGN_OR_RETURN(auto store, store_for_uri(uri, opts_.config));
    stores_.emplace(scheme, store);
    return store;
  }

  Status put(ObjectStore& store, const Task& t, std::uint64_t& bytes) {
    DataGenOptions g;
    g.size = t.entry.bytes;
    g.seed = seed_;
    g.object_index = t.entry.idx;
    g.threads = 1;  // the replay's concurrency is the parallelism
    PutOptions po;
    po.cancel = stop_;
    if (g.size <= kReplayPutChunkSize) {
      OMNIO_ASSIGN_OR_RETURN(Bytes data, generate(g));
      OMNIO_TRY(store.put(t.uri, data, po));
      bytes = data.size();
      return ok_status();
    }
    WriterOptions wo;
    wo.put = po;
    OMNIO_ASSIGN_OR_RETURN(auto writer, store.create_writer(t.uri, wo));
    OMNIO_ASSIGN_OR_RETURN(auto gen, DataGenerator::create(g));
    std::vector<std::byte> buf(kReplayPutChunkSize);
    while (gen.remaining() > 0) {
      if (stop_.is_cancelled()) {
        (void)writer->cancel();
        return Error(ErrorCode::kCancelled, "replay stopped");
      }
      OMNIO_ASSIGN_OR_RETURN(std::size_t n, gen.fill(buf));
      OMNIO_TRY(writer->write(std::span<const std::byte>(buf.data(), n)));
    }
    OMNIO_TRY(writer->finalize());
    bytes = writer->bytes_written();
    return ok_status();
  }

  Status execute(const Task& t, std::uint64_t& bytes) {
    OMNIO_ASSIGN_OR_RETURN(auto store, store_for(t.uri));
    ReadOptions ro;
    ro.cancel = stop_;
    switch (t.kind) {
      case Kind::kGet:
        return store->get_to_sink(
            t.uri,
            [&](std::uint64_t, Bytes b) {
              bytes += b.size();
              return ok_status();
            },
            ro);
      case Kind::kGetRange: {
        OMNIO_ASSIGN_OR_RETURN(Bytes b, store->get_range(t.uri, 0, t.entry.bytes, ro));
        bytes = b.size();
        return ok_status();
      }
      case Kind::kPut:
        return put(*store, t, bytes);
      case Kind::kStat: {
        OMNIO_ASSIGN_OR_RETURN(auto md, store->stat(t.uri));
        bytes = md.size;
        return ok_status();
      }
      case Kind::kList:
        OMNIO_TRY(store->list_entries(t.uri, /*recursive=*/true));
        return ok_status();
      case Kind::kDelete:
        return store->delete_object(t.uri);
      case Kind::kDeletePrefix:
        OMNIO_TRY(store->delete_prefix(t.uri));
        return ok_status();
      case Kind::kCreateContainer:
        return store->create_container(t.uri);
      case Kind::kDeleteContainer:
        return store->delete_container(t.uri);
      case Kind::kSkip:
        break;
    }
    return ok_status();
  }

  void work(const Task& t) {
    const Clock::time_point started = Clock::now();
    std::uint64_t bytes = 0;
    Status s = stop_.is_cancelled() ? Status(Error(ErrorCode::kCancelled, "replay stopped"))
                                    : execute(t, bytes);
    std::lock_guard lock(stats_mu_);
    if (!s.ok() && s.error().code() == ErrorCode::kCancelled && stop_.is_cancelled()) return;
    drift_.add(std::chrono::duration_cast<std::chrono::nanoseconds>(started - t.scheduled).count());
    last_started_ = std::max(last_started_, started);
    ReplayOpStats& st = report_.ops[t.entry.op];
    ++st.count;
    st.bytes += bytes;
    st.logged_bytes += t.entry.bytes;
    if (s.ok()) return;
    if (!t.entry.error.empty()) {
      ++st.expected_errors;
      return;
    }
    ++st.errors;
    std::string what =
        fmt::format("line {} {} {}: {}", t.entry.line, t.entry.op, t.uri, s.error().to_string());
    if (report_.failures.size() < 10) report_.failures.push_back(what);
    if (!report_.first_failure) {
      report_.first_failure = s.error().wrap(
          fmt::format("replay {} line {} {} {}", opts_.log_path, t.entry.line, t.entry.op, t.uri));
    }
    if (!opts_.continue_on_error && !first_failure_) {
      first_failure_ = report_.first_failure;
      stop_.cancel();
    }
  }

  // Queue for the workers: at most `concurrency` tasks wait, so the dispatcher blocks (and the
  // lateness shows as drift) when every worker is busy.
  bool push(Task t) {
    std::unique_lock lock(q_mu_);
    q_space_.wait(lock, stop_.stop_token(), [&] { return queue_.size() < opts_.concurrency; });
    if (stop_.is_cancelled()) return false;
    queue_.push_back(std::move(t));
    lock.unlock();
    q_work_.notify_one();
    return true;
  }

  void worker() {
    for (;;) {
      Task t;
      {
        std::unique_lock lock(q_mu_);
        q_work_.wait(lock, [&] { return !queue_.empty() || done_; });
        if (queue_.empty()) return;
        t = std::move(queue_.front());
        queue_.pop_front();
      }
      q_space_.notify_one();
      work(t);
    }
  }

  Result<ReplayReport> second_pass() {
    OMNIO_ASSIGN_OR_RETURN(auto reader, OpLogReader::open(opts_.log_path));
    seed_ = opts_.seed ? *opts_.seed : random_seed();
    std::vector<std::jthread> workers;
    workers.reserve(opts_.concurrency);
    for (std::size_t i = 0; i < opts_.concurrency; ++i) workers.emplace_back([this] { worker(); });
    std::priority_queue<Task, std::vector<Task>, ByStart> window;
    const Clock::time_point epoch = Clock::now();
    first_scheduled_ = epoch;
    Status status = ok_status();

    auto dispatch = [&](Task t) {
      t.scheduled = epoch + std::chrono::nanoseconds(scaled_ns(t.entry.start_ns - first_start_));
      const auto now = Clock::now();
      if (t.scheduled > now && !stop_.sleep_for(t.scheduled - now)) return false;
      return push(std::move(t));
    };
    bool running = true;
    while (running) {
      auto e = reader.next();
      if (!e.ok()) {  // the first pass read the same bytes; only an I/O error can land here
        status = std::move(e).error();
        break;
      }
      if (!*e) break;
      auto kind = kind_of((*e)->op);
      if (!wanted((*e)->op)) {
        ++report_.filtered;
        continue;
      }
      if (*kind == Kind::kSkip) {
        ++report_.skipped;
        continue;
      }
      Task t;
      t.kind = *kind;
      t.uri = retarget((*e)->uri());
      t.entry = std::move(**e);
      window.push(std::move(t));
      if (window.size() >= opts_.reorder_window) {
        Task next = window.top();
        window.pop();
        running = dispatch(std::move(next));
      }
    }
    while (running && status.ok() && !window.empty()) {
      Task next = window.top();
      window.pop();
      running = dispatch(std::move(next));
    }
    {
      std::lock_guard lock(q_mu_);
      done_ = true;
    }
    q_work_.notify_all();
    workers.clear();  // joins: operations in flight finish
    OMNIO_TRY(status);
    if (first_failure_) return *first_failure_;
    if (opts_.cancel.is_cancelled()) {
      return Error(ErrorCode::kCancelled, fmt::format("replay {}: interrupted after {} operations",
                                                      opts_.log_path, report_.total_ops()));
    }
    report_.actual_span_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(last_started_ - first_scheduled_)
            .count();
    report_.drift_mean_ns = drift_.mean();
    report_.drift_p50_ns = drift_.quantile(0.5);
    report_.drift_p99_ns = drift_.quantile(0.99);
    report_.drift_max_ns = drift_.max();
    return report_;
  }

  const ReplayOptions& opts_;
  CancellationToken stop_;
  std::uint64_t included_ = 0;
  std::int64_t first_start_ = 0, last_start_ = 0;
  std::string source_, target_;
  std::uint64_t seed_ = 0;

  std::mutex stores_mu_;
  std::map<std::string, std::shared_ptr<ObjectStore>> stores_;

  std::mutex q_mu_;
  std::condition_variable_any q_space_;
  std::condition_variable q_work_;
  std::deque<Task> queue_;
  bool done_ = false;

  std::mutex stats_mu_;
  ReplayReport report_;
  DriftHistogram drift_;
  Clock::time_point first_scheduled_, last_started_;
  std::optional<Error> first_failure_;
};

}  // namespace

Status ReplayOptions::validate() const {
  if (log_path.empty()) return Error(ErrorCode::kInvalidArgument, "replay: no op-log given");
  if (!std::isfinite(speed) || speed <= 0) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("replay: speed must be a number > 0 (got {}); 2 = twice as fast, "
                             "0.5 = half speed",
                             speed));
  }
  if (concurrency == 0)
    return Error(ErrorCode::kInvalidArgument, "replay: concurrency must be >= 1");
  if (reorder_window == 0) {
    return Error(ErrorCode::kInvalidArgument, "replay: reorder_window must be >= 1");
  }
  if (source && !target) {
    return Error(ErrorCode::kInvalidArgument, "replay: a source prefix needs a target");
  }
  for (const auto& op : ops) {
    if (!kind_of(op)) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("replay: unknown op '{}' in the op filter (known: {})", op,
                               known_op_names()));
    }
  }
  return ok_status();
}

std::uint64_t ReplayReport::total_errors() const {
  std::uint64_t n = 0;
  for (const auto& [op, s] : ops) n += s.errors;
  return n;
}

std::uint64_t ReplayReport::total_ops() const {
  std::uint64_t n = 0;
  for (const auto& [op, s] : ops) n += s.count;
  return n;
}

Result<ReplayReport> replay(const ReplayOptions& options) { return Replayer(options).run(); }

}  // namespace omnio
