#include "omnio/loader.h"

#include <fmt/format.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <shared_mutex>
#include <span>
#include <stop_token>
#include <thread>

#include "core/buffer_recycler.h"
#include "core/pod_vector.h"
#include "loader/dataset_items.h"
#include "omnio/aligned_buffer.h"
#include "omnio/env.h"
#include "omnio/key_list.h"
#include "omnio/log.h"
#include "omnio/records.h"
#include "omnio/store_factory.h"
#include "omnio/uri.h"

namespace omnio {

using Clock = std::chrono::steady_clock;

// ---- Dataset
// -------------------------------------------------------------------------------------

namespace {

// One store per scheme: every backend's store serves every URI of its scheme.
struct StoreCache {
  const Config& config;
  std::vector<std::string> schemes;
  std::vector<std::shared_ptr<ObjectStore>> stores;

  Result<std::uint32_t> index_for(const std::string& uri) {
    OMNIO_ASSIGN_OR_RETURN(Scheme sc, scheme_of(uri));
    std::string name(scheme_name(sc));
    for (std::size_t i = 0; i < schemes.size(); ++i) {
      if (schemes[i] == name) return static_cast<std::uint32_t>(i);
    }
    OMNIO_ASSIGN_OR_RETURN(auto store, store_for_uri(uri, config));
    schemes.push_back(std::move(name));
    stores.push_back(std::move(store));
    return static_cast<std::uint32_t>(stores.size() - 1);
  }
};

// The longest prefix every URI shares.
std::string common_prefix(const std::vector<std::string>& uris) {
  if (uris.empty()) return {};
  std::string_view p = uris.front();
  for (const std::string& u : uris) {
    std::size_t n = 0;
    const std::size_t most = std::min(p.size(), u.size());
    while (n < most && p[n] == u[n]) ++n;
    p = p.substr(0, n);
  }
  return std::string(p);
}

// A tail longer than 4 GiB cannot be addressed by Items::Key (no real URI comes close).
Status check_uri_length(std::string_view uri, std::size_t i) {
  if (uri.size() >= UINT32_MAX) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("dataset item {}: a URI of {} bytes (expected under 4 GiB)", i, uri.size()));
  }
  return ok_status();
}

}  // namespace

namespace loader_detail {

// The DataLoader's view of a data set whose listing may still be running.
struct DatasetAccess {
  static const DatasetItems* items(const Dataset& d) { return d.items_.get(); }
  // Whether every store of the data set is file:// (known before any item is listed).
  static bool all_local_files(const Dataset& d) {
    return !d.stores_.empty() && std::all_of(d.stores_.begin(), d.stores_.end(),
                                             [](const auto& s) { return s->scheme() == "file"; });
  }
};

}  // namespace loader_detail

namespace {

// Runs `f` (which reads the arrays at item `i`) once item `i` is listed, holding a streamed
// listing's grow lock while it may still move the arrays (DatasetListing).
template <typename F>
decltype(auto) with_item(const loader_detail::DatasetItems& items, std::size_t i, F&& f) {
  if (!items.growing()) return f();
  loader_detail::DatasetListing& l = *items.listing;
  if (l.published.load(std::memory_order_acquire) <= i) l.wait_past(i);
  std::shared_lock g(l.grow_mu);
  return f();
}

}  // namespace

Dataset::Dataset() = default;

Dataset::Dataset(std::shared_ptr<const Items> items,
                 std::vector<std::shared_ptr<ObjectStore>> stores)
    : items_(std::move(items)), stores_(std::move(stores)) {}

Status Dataset::wait_listed() const {
  if (!items_ || !items_->listing) return ok_status();
  items_->listing->wait_done();
  return items_->listing->error;
}

std::size_t Dataset::size() const {
  if (!items_) return 0;
  if (items_->growing()) items_->listing->wait_done();
  return items_->keys.size();
}

void Dataset::key_into(std::size_t i, std::string& out) const {
  with_item(*items_, i, [&] {
    const std::string_view t = items_->tail(items_->keys[i]);
    out.reserve(items_->base.size() + t.size());
    out.assign(items_->base);
    out.append(t);
  });
}

std::string Dataset::key(std::size_t i) const {
  std::string out;
  key_into(i, out);
  return out;
}

std::vector<std::string> Dataset::keys() const {
  std::vector<std::string> out;
  out.reserve(size());
  for (std::size_t i = 0; i < size(); ++i) out.push_back(key(i));
  return out;
}

ObjectStore& Dataset::store_of(std::size_t i) const {
  return *stores_[with_item(*items_, i, [&] { return items_->keys[i].store; })];
}

std::optional<ItemRange> Dataset::range_of(std::size_t i) const {
  if (items_->ranges.empty()) return std::nullopt;  // never filled by a listing
  return items_->ranges[i];
}

std::optional<std::uint64_t> Dataset::listed_size(std::size_t i) const {
  if (!items_->ranges.empty()) return items_->ranges[i].length;
  return with_item(*items_, i, [&]() -> std::optional<std::uint64_t> {
    if (!items_->has_sizes()) return std::nullopt;
    return items_->sizes[i];
  });
}

namespace {

// The items of `uris`, in order, each served by its scheme's store in `cache`.
Result<std::shared_ptr<loader_detail::DatasetItems>> uri_items(const std::vector<std::string>& uris,
                                                               StoreCache& cache) {
  if (uris.empty()) return Error(ErrorCode::kInvalidArgument, "dataset: no URIs given");
  auto items = std::make_shared<loader_detail::DatasetItems>();
  items->base = common_prefix(uris);
  items->keys.reserve(uris.size());
  for (std::size_t i = 0; i < uris.size(); ++i) {
    OMNIO_TRY(check_uri_length(uris[i], i));
    auto idx = cache.index_for(uris[i]);
    if (!idx.ok()) return idx.error().wrap(fmt::format("dataset item {} ('{}')", i, uris[i]));
    items->add(uris[i], *idx);
  }
  return items;
}

}  // namespace

Result<Dataset> Dataset::from_uris(std::vector<std::string> uris, const Config& config) {
  StoreCache cache{config, {}, {}};
  OMNIO_ASSIGN_OR_RETURN(auto items, uri_items(uris, cache));
  return Dataset(std::move(items), std::move(cache.stores));
}

namespace {

// The body of a streamed listing's thread: appends every object under `prefix` to `items`,
// publishing each as it is added, then marks the listing done (with its error, if any).
void run_listing(ObjectStore& store, const std::string& prefix,
                 loader_detail::DatasetItems& items) {
  loader_detail::DatasetListing& l = *items.listing;
  std::size_t n = 0;
  Status st = store.list_keys_stream(
      prefix, /*recursive=*/true,
      [&](ListEntry&& e) -> Status {
        // Our stores check the token before each entry; a custom store may not.
        if (l.stop.is_cancelled()) {
          return Error(ErrorCode::kCancelled,
                       fmt::format("dataset: the listing of '{}' was stopped", prefix));
        }
        if (e.is_dir) return ok_status();
        OMNIO_TRY(check_uri_length(e.uri, n));
        // Sizes where the listing has them for free (object stores); file:// and direct:// leave
        // them out rather than stat every file (~3 us each here). The loader learns such a size
        // when it opens the object (get_with_buffer), and takes budget-charged memory in claim
        // order then.
        if (n == 0) l.sized = e.size_known;  // published with the first object
        if (l.sized && !e.size_known) {
          return Error(ErrorCode::kInternal,
                       fmt::format("dataset: the listing of '{}' gave no size for '{}' after sizes "
                                   "for the {} objects before it",
                                   prefix, e.uri, n));
        }
        items.add_listed(e.uri, 0, l.sized ? &e.size : nullptr);
        // Published with one store; readers poll for more (kDatasetListingPoll). Only the first
        // object is announced: from_prefix_streamed waits for it.
        l.published.store(++n, std::memory_order_release);
        if (n == 1) {
          std::lock_guard g(l.mu);
          l.cv.notify_all();
        }
        return ok_status();
      },
      l.stop);  // stopping the listing interrupts a page request in flight too
  if (st.ok() && n == 0) {
    st = Error(ErrorCode::kInvalidArgument,
               fmt::format("dataset: no objects under '{}' (expected a prefix that lists objects)",
                           prefix));
  } else if (!st.ok() && n > 0) {
    st = st.error().wrap(
        fmt::format("dataset: the listing of '{}' failed after {} objects", prefix, n));
  }
  l.error = std::move(st);
  l.published.store(n, std::memory_order_release);
  std::lock_guard g(l.mu);
  l.done.store(true, std::memory_order_release);
  l.cv.notify_all();
}

}  // namespace

Result<Dataset> Dataset::from_prefix_streamed(std::string_view prefix_uri, const Config& config,
                                              const CancellationToken& cancel) {
  OMNIO_ASSIGN_OR_RETURN(std::shared_ptr<ObjectStore> store, store_for_uri(prefix_uri, config));
  return from_prefix_streamed(std::move(store), prefix_uri, cancel);
}

Result<Dataset> Dataset::from_prefix_streamed(std::shared_ptr<ObjectStore> store,
                                              std::string_view prefix_uri,
                                              const CancellationToken& cancel) {
  auto items = std::make_shared<Items>();
  items->base = std::string(prefix_uri.substr(0, prefix_uri.rfind('/') + 1));
  items->listing = std::make_unique<loader_detail::DatasetListing>();
  loader_detail::DatasetListing& l = *items->listing;
  l.stop = cancel.child();  // the data set's destruction stops the listing too
  try {
    l.thread = std::thread([store, prefix = std::string(prefix_uri), raw = items.get()] {
      run_listing(*store, prefix, *raw);
    });
  } catch (const std::system_error& e) {
    return Error(
        ErrorCode::kResourceExhausted,
        fmt::format("dataset: cannot start a thread to list '{}': {}", prefix_uri, e.what()));
  }
  l.wait_past(0);
  if (l.published.load(std::memory_order_acquire) == 0) return l.error.error();  // done, empty
  std::vector<std::shared_ptr<ObjectStore>> stores;
  stores.push_back(std::move(store));
  return Dataset(std::move(items), std::move(stores));
}

Result<Dataset> Dataset::from_prefix(std::string_view prefix_uri, const Config& config,
                                     const CancellationToken& cancel) {
  OMNIO_ASSIGN_OR_RETURN(Dataset ds, from_prefix_streamed(prefix_uri, config, cancel));
  OMNIO_TRY(ds.wait_listed());
  return ds;
}

Result<Dataset> Dataset::from_uri_file(const std::string& path, const Config& config) {
  return from_key_list(path, "", config);
}

Result<Dataset> Dataset::from_key_list(const std::string& path, const std::string& base,
                                       const Config& config) {
  OMNIO_ASSIGN_OR_RETURN(auto entries, read_key_list(path, base));
  std::vector<std::string> uris;
  PodVector<std::uint64_t> sizes;
  uris.reserve(entries.size());
  bool all_sized = true;
  for (auto& e : entries) {
    all_sized = all_sized && e.size.has_value();
    if (all_sized) sizes.push_back(*e.size);
    uris.push_back(std::move(e.uri));
  }
  entries = {};
  StoreCache cache{config, {}, {}};
  OMNIO_ASSIGN_OR_RETURN(auto items, uri_items(uris, cache));
  // Sizes from `ls --json` let the loader read into reused buffers, as after a listing.
  if (all_sized) items->sizes = std::move(sizes);
  return Dataset(std::move(items), std::move(cache.stores));
}

Dataset Dataset::with_store(std::shared_ptr<ObjectStore> store, std::vector<std::string> uris) {
  auto items = std::make_shared<Items>();
  items->base = common_prefix(uris);
  items->keys.reserve(uris.size());
  for (const std::string& u : uris) items->add(u, 0);
  std::vector<std::shared_ptr<ObjectStore>> stores;
  stores.push_back(std::move(store));
  return Dataset(std::move(items), std::move(stores));
}

Result<Dataset> Dataset::tfrecord_records(const Dataset& files, TfRecordIndexFormat index_format) {
  OMNIO_TRY(files.wait_listed());
  auto items = std::make_shared<Items>();
  items->base = files.items_ ? files.items_->base : std::string();
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string uri = files.key(i);
    if (uri.size() >= 4 && uri.compare(uri.size() - 4, 4, ".idx") == 0) continue;
    if (files.range_of(i)) {
      return Error(ErrorCode::kInvalidArgument,
                   "dataset: tfrecord_records needs a dataset of whole objects");
    }
    ObjectStore& store = files.store_of(i);
    const std::string index_uri = uri + ".idx";
    std::vector<TfRecordSpan> spans;
    auto index = store.get(index_uri);
    if (index.ok()) {
      OMNIO_ASSIGN_OR_RETURN(spans, parse_tfrecord_index(*index, index_uri, index_format));
    } else if (index.error().code() == ErrorCode::kNotFound) {
      auto object = store.get(uri);
      if (!object.ok()) return object.error().wrap("dataset: reading TFRecord " + uri);
      OMNIO_ASSIGN_OR_RETURN(spans, scan_tfrecord(*object, uri));
      log::debug("dataset: {} has no index; scanned {} records", uri, spans.size());
    } else {
      return index.error().wrap("dataset: reading TFRecord index " + index_uri);
    }
    if (spans.empty()) continue;
    // Every record of the object shares its one tail.
    items->add(uri, files.items_->keys[i].store);
    const Items::Key k = items->keys.back();
    items->ranges.push_back(ItemRange{spans.front().offset, spans.front().size});
    for (std::size_t r = 1; r < spans.size(); ++r) {
      items->keys.push_back(k);
      items->ranges.push_back(ItemRange{spans[r].offset, spans[r].size});
    }
  }
  if (items->keys.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "dataset: the TFRecord objects hold no records (expected at least one)");
  }
  return Dataset(std::move(items), files.stores_);
}

// ---- Sampler
// -------------------------------------------------------------------------------------

namespace loader_detail {

__extension__ typedef unsigned __int128 u128;  // GCC/Clang builtin; -Wpedantic-clean

// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and the same on every platform.
struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound) without modulo bias worth speaking of (Lemire's multiply-shift).
  std::uint64_t below(std::uint64_t bound) {
    return static_cast<std::uint64_t>((static_cast<u128>(next()) * bound) >> 64);
  }
};

}  // namespace loader_detail

using loader_detail::SplitMix64;

std::vector<std::size_t> sample_epoch(std::size_t n, const LoaderOptions& o, std::size_t epoch) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (o.shuffle && n > 1) {
    SplitMix64 seeder{o.seed};
    SplitMix64 rng{seeder.next() ^
                   (0xD1B54A32D192ED03ULL * (static_cast<std::uint64_t>(epoch) + 1))};
    for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  }
  const std::size_t w = std::max<std::size_t>(1, o.world_size * o.num_workers);
  const std::size_t s = o.rank * o.num_workers + o.worker_id;
  std::vector<std::size_t> shard;
  shard.reserve(n / w + 1);
  for (std::size_t p = s; p < n; p += w) shard.push_back(order[p]);
  if (o.drop_last && o.batch_size > 0) shard.resize(shard.size() / o.batch_size * o.batch_size);
  return shard;
}

// ---- Configuration
// -------------------------------------------------------------------------------

Status LoaderConfig::validate() const {
  const auto bad = [](std::string m) {
    return Error(ErrorCode::kInvalidArgument, "loader: " + std::move(m));
  };
  const auto& o = options;
  if (o.batch_size == 0) return bad("options.batch_size must be at least 1");
  if (o.world_size == 0) return bad("options.world_size must be at least 1");
  if (o.rank >= o.world_size) {
    return bad(
        fmt::format("options.rank {} must be below options.world_size {}", o.rank, o.world_size));
  }
  if (o.num_workers == 0) return bad("options.num_workers must be at least 1");
  if (o.worker_id >= o.num_workers) {
    return bad(fmt::format("options.worker_id {} must be below options.num_workers {}", o.worker_id,
                           o.num_workers));
  }
  if (pool.pool_size == 0 || pool.pool_size > kMaxLoaderPoolSize) {
    return bad(
        fmt::format("pool.pool_size must be 1..{} (got {})", kMaxLoaderPoolSize, pool.pool_size));
  }
  if (pool.readahead_batches == 0) return bad("pool.readahead_batches must be at least 1");
  if (pool.request_timeout.count() < 0) return bad("pool.request_timeout must be >= 0 (0 = none)");
  if (Status s = pool.retry.validate(); !s.ok()) return s.error().wrap("loader: pool.retry");
  if (Status s = store.validate(); !s.ok()) return s.error().wrap("loader: store");
  return ok_status();
}

namespace {

Status env_size(std::string_view name, std::size_t& out) {
  auto v = env::get(name);
  if (!v) return ok_status();
  std::size_t x = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
  if (ec != std::errc() || p != v->data() + v->size()) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("{}='{}' is not a whole number (expected e.g. {}=32)", name, *v, name));
  }
  out = x;
  return ok_status();
}

}  // namespace

LoaderConfig::Builder::Builder() {
  for (auto [name, field] :
       {std::pair{"OMNIO_LOADER_BATCH_SIZE", &c_.options.batch_size},
        std::pair{"OMNIO_LOADER_POOL_SIZE", &c_.pool.pool_size},
        std::pair{"OMNIO_LOADER_READAHEAD_BATCHES", &c_.pool.readahead_batches}}) {
    if (Status s = env_size(name, *field); !s.ok() && env_error_.ok()) env_error_ = s;
  }
}

LoaderConfig::Builder& LoaderConfig::Builder::range_chunk_size(std::size_t v) {
  for (RangeEngineConfig* re : {&c_.store.direct.range_engine, &c_.store.s3.range_engine,
                                &c_.store.azure.range_engine, &c_.store.gcs.range_engine}) {
    re->chunk_size = v;
  }
  return *this;
}

LoaderConfig::Builder& LoaderConfig::Builder::max_concurrent_ranges(std::size_t v) {
  for (RangeEngineConfig* re : {&c_.store.direct.range_engine, &c_.store.s3.range_engine,
                                &c_.store.azure.range_engine, &c_.store.gcs.range_engine}) {
    re->max_concurrent_ranges = v;
  }
  return *this;
}

Result<LoaderConfig> LoaderConfig::Builder::build() const {
  if (!env_error_.ok()) return env_error_.error();
  OMNIO_TRY(c_.validate());
  return c_;
}

// ---- Metrics
// -------------------------------------------------------------------------------------

double LoaderMetrics::items_per_second() const {
  const double s = std::chrono::duration<double>(elapsed).count();
  return s > 0 ? static_cast<double>(items) / s : 0;
}

double LoaderMetrics::bytes_per_second() const {
  const double s = std::chrono::duration<double>(elapsed).count();
  return s > 0 ? static_cast<double>(bytes) / s : 0;
}

// ---- DataLoader
// ----------------------------------------------------------------------------------

namespace loader_detail {

// What one item request produced.
struct Fetched {
  Bytes data;
  std::vector<NpyArray> arrays;
};

struct Outcome {
  std::size_t position = 0;
  Result<Fetched> data = Fetched();
};

// One worker's request as the watchdog sees it. Each worker has its own, under a lock of its own,
// so starting and ending a request does not take the loader's lock (an in-flight table under it,
// and a child token made and unlinked per request, cost 7 % of 128 KiB loads).
struct WorkerSlot {
  std::mutex mu;
  Clock::time_point started{};   // of the request in progress (armed)
  Clock::time_point deadline{};  // with a request timeout
  bool armed = false;
  bool timed_out = false;
  std::uint64_t generation = ~std::uint64_t{0};
  CancellationToken token;  // a child of the epoch's token; replaced once a timeout has fired it
};

// A claimed position and, once fetched, its outcome.
struct Claim {
  std::size_t position = 0;
  std::size_t index = 0;
  Result<Fetched> data = Fetched();
  std::chrono::nanoseconds latency{-1};  // of the successful read; -1 when there was none
  // PoolConfig::limit_when_cpu_bound: whether to sample this read (the first of a sampled group)
  // and, once sampled, whether the worker slept during it.
  bool sample = false;
  std::optional<bool> slept;
  // Items of unknown size (State::late_turns): whether this position passed its allocation turn,
  // and the budget-charged buffer it took in its turn (kept for a retry of the same read).
  bool turn_passed = false;
  std::shared_ptr<AlignedBuffer> held;
  // Handed over before the rest of its group was read (late_buffer).
  bool handed = false;
  // The bytes of the group's batched read (read_group), which stands for the first attempt, and
  // how many items that read had.
  std::optional<Bytes> prefetched;
  std::size_t batched = 0;
  // The size of the object read (before decoding): the next group's size hint.
  std::uint64_t raw_size = 0;
};

constexpr std::size_t kLatencySamples = 1 << 17;  // reservoir for percentiles
// Pooled item buffers are sized in multiples of this, so items of nearly equal size share them;
// page-aligned, so direct:// reads straight into them.
constexpr std::size_t kLoaderBufferClass = 64 * 1024;
// A worker whose last item took less than this claims up to kLoaderClaimMax positions at once
// and hands them over together: for fast reads (local files, page cache) one lock hold and one
// wake-up per item dominated (one context switch per 128 KiB item); for slow ones it would hold
// later items back behind a slow request, so those claim one at a time.
constexpr std::chrono::microseconds kLoaderGroupBelow{500};
constexpr std::size_t kLoaderClaimMax = 4;
// After a group that the store read in one batch (read_group), a fast worker claims up to this
// many: the batch's system calls are shared by all of them. 20,000 page-cached 128 KiB files,
// --pool 2 against get --discard -j 2 (paired, 15 rounds): groups of 4 took 1.06x get's time,
// groups of 16 0.97x (docs/BENCHMARKS.md run 27).
constexpr std::size_t kLoaderBatchClaimMax = 16;
// The size a worker expects its next item of unknown size to have (read_group's hint): the largest
// of its last kLoaderHintItems to 2 x kLoaderHintItems items. With the last item's size, an item
// larger than the one before it was read twice (the first read filled the smaller buffer, then the
// whole file again): a third of the batched items of a shuffled data set of two sizes
// (LoaderFiles.ItemsOfMixedSizesAreReadOnceByTheirBatch).
constexpr std::size_t kLoaderHintItems = 32;
class SizeHint {
 public:
  void note(std::uint64_t size) {
    current_ = std::max(current_, size);
    if (++seen_ == kLoaderHintItems) {
      previous_ = current_;
      current_ = 0;
      seen_ = 0;
    }
  }
  std::uint64_t get() const { return std::max(current_, previous_); }

 private:
  std::uint64_t current_ = 0;
  std::uint64_t previous_ = 0;
  std::size_t seen_ = 0;
};
// Items from this size up use pooled buffers: below it malloc is cheap; above it fresh buffers
// cost page faults (mmap'ed, >= 1 MiB) or let glibc's per-thread arenas grow (128 KiB items took
// a 500 MB RSS).
constexpr std::size_t kLoaderPooledMinSize = 64 * 1024;
constexpr std::size_t kLoaderBufferAlignment = 4096;
// PoolConfig::limit_when_cpu_bound. The cap applies from the start. A worker samples its first
// kLoaderCpuBoundSampleEvery claim groups, then one in kLoaderCpuBoundSampleEvery while its reads
// are fast (getrusage costs ~1 us, twice, against ~100 us for a group of 4 reads of 128 KiB) and
// every group while they are slow, so that reads that sleep restore the pool within a few reads.
// A sample says whether the thread slept (a voluntary context switch) during the group's first
// read; the share of samples that did not is smoothed over ~kLoaderCpuBoundWindow samples. After
// kLoaderCpuBoundMinSamples, below kLoaderCpuBoundOff the cap is lifted; at or above
// kLoaderCpuBoundOn it applies again.
constexpr std::size_t kLoaderCpuBoundSampleEvery = 8;
constexpr double kLoaderCpuBoundWindow = 16;
constexpr double kLoaderCpuBoundOn = 0.9;
constexpr double kLoaderCpuBoundOff = 0.6;
constexpr std::uint64_t kLoaderCpuBoundMinSamples = 16;
// While the cap applies, a read still in progress after this lifts it (the watchdog checks every
// half of it): readers stalled on a slow request must not hold back the parked workers.
constexpr std::chrono::milliseconds kLoaderCpuBoundStall{50};

// CPUs this process may run on (its affinity mask), at least 1.
std::size_t usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    return std::max<std::size_t>(1, static_cast<std::size_t>(CPU_COUNT(&set)));
  }
  return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

}  // namespace loader_detail

using loader_detail::Claim;
using loader_detail::Fetched;
using loader_detail::kLatencySamples;
using loader_detail::kLoaderBatchClaimMax;
using loader_detail::kLoaderBufferAlignment;
using loader_detail::kLoaderBufferClass;
using loader_detail::kLoaderClaimMax;
using loader_detail::kLoaderCpuBoundMinSamples;
using loader_detail::kLoaderCpuBoundOff;
using loader_detail::kLoaderCpuBoundOn;
using loader_detail::kLoaderCpuBoundSampleEvery;
using loader_detail::kLoaderCpuBoundStall;
using loader_detail::kLoaderCpuBoundWindow;
using loader_detail::kLoaderGroupBelow;
using loader_detail::kLoaderPooledMinSize;
using loader_detail::Outcome;
using loader_detail::SizeHint;
using loader_detail::WorkerSlot;

struct DataLoader::State {
  Dataset dataset;
  LoaderConfig config;
  CancellationToken cancel;  // the loader's own token (child of the caller's)

  mutable std::mutex mu;
  // Workers wait for work. A plain condition variable (condition_variable_any takes a second,
  // internal mutex around every wait: 15 % of the loader's context switches); cancel() and the
  // destructor notify it, and a wait ends on stop_requested().
  std::condition_variable cv;
  // Workers beyond the CPU-bound cap (PoolConfig::limit_when_cpu_bound) wait here, so that the
  // window's wake-ups (cv.notify_one) go to the workers that read: futex wakes the longest waiter,
  // which rotated all pool_size threads through the reads (cold stacks and malloc arenas, 15 %
  // slower than pool 2 at the same 2 readers).
  std::condition_variable parked_cv;
  // The consumer waits for results. A plain condition variable: condition_variable_any holds an
  // internal mutex while it notifies, so the consumer woke only to block on that mutex (two
  // context switches per batch, a third of the loader's). Cancellation wakes it through
  // wake_on_cancel.
  std::condition_variable ready_cv;
  // Epoch state, all under mu.
  std::uint64_t generation = 0;  // bumped by start_epoch: stale results are dropped
  bool started = false;
  CancellationToken epoch_token;
  std::size_t epoch = 0;
  std::vector<std::size_t> order;  // this shard's dataset indexes in delivery order
  // A data set still being listed (Dataset::from_prefix_streamed) when the loader was created;
  // null otherwise. The order grows as its items arrive (extend_order), looked for every
  // kDatasetListingPoll by the consumer (next) and by one idle worker (listing_poller).
  // order_final: the order holds the whole epoch (always, but while such a listing runs).
  loader_detail::DatasetListing* listing = nullptr;
  bool order_final = true;
  bool listing_poller = false;
  std::size_t next_claim = 0;  // next position a worker takes
  std::size_t base = 0;        // positions below this were handed to the consumer
  std::size_t batch_number = 0;
  // Ordered mode: the outcome of position p waits in ready[p % window()]. A position is claimed
  // only below base + window() and leaves when its batch is handed over, so no two waiting
  // positions share a slot. (A std::map node per item, allocated and freed under mu, cost the
  // sampler order ~3 % of the CPU of page-cached 128 KiB items against completion order.)
  std::vector<std::optional<Result<Fetched>>> ready;
  std::size_t head_ready = 0;      // entries of `ready` in the batch at `base` (ordered mode)
  std::vector<Outcome> completed;  // completion order
  std::optional<Error> fatal;      // OnError::kFail: the stream's error
  bool fatal_reported = false;
  std::vector<std::unique_ptr<WorkerSlot>> slots;  // one per worker (the watchdog scans them)
  std::mutex watchdog_mu;
  std::condition_variable_any watchdog_cv;
  // Item buffers are taken from the memory budget in claim order: a later position never holds
  // memory an earlier one waits for (the consumer needs the earlier one first). alloc_turn is the
  // position allowed to allocate; positions that passed out of order wait in alloc_passed.
  // A position waiting for its turn registers its own condition variable in turn_waiters, and
  // only that one is woken when its turn comes (one shared notify_all woke every worker for every
  // item: 32 workers on 128 KiB items spent 5x the CPU of the reads in futex wake-ups).
  // Items of unknown size (late_turns) learn whether their buffer is budget-charged only when the
  // store opens them (read_item): each passes its turn then, or at its hand-over.
  bool late_turns = false;
  std::size_t alloc_turn = 0;
  std::set<std::size_t> alloc_passed;
  std::map<std::size_t, std::condition_variable_any*> turn_waiters;
  // PoolConfig::limit_when_cpu_bound, under mu: workers between their claim and its hand-over;
  // how many may be (pool_size, or cpu_bound_cap while reads do not sleep); the smoothed share of
  // sampled read groups during which the worker did not sleep, and the number of samples.
  std::size_t reading = 0;
  std::size_t reading_cap = 0;
  std::size_t cpu_bound_cap = 0;
  double not_sleeping = 0.5;
  std::uint64_t sleep_samples = 0;

  // Metrics.
  LoaderMetrics m;
  Clock::time_point t0{};
  std::vector<std::int64_t> latencies;
  std::uint64_t latency_seen = 0;
  SplitMix64 reservoir_rng{0x5EED};

  // Reused item buffers (read_item): keeps enough for the window plus the batch the consumer
  // holds, so a steady run allocates nothing.
  std::shared_ptr<BufferRecycler> buffers;

  std::vector<std::jthread> workers;
  std::jthread watchdog;

  // Wakes the consumer when `cancel` fires (a caller's token, a shared one, or cancel()). Last
  // member: destroyed first, before anything it touches.
  std::optional<WakeOnCancel> wake_on_cancel;

  // Whether the CPU-bound cap can apply at all (PoolConfig::limit_when_cpu_bound, and fewer CPUs
  // than pool_size): only then are reads sampled and watched for stalls.
  bool cap_possible() const { return cpu_bound_cap < config.pool.pool_size; }

  void wake_all_workers() {
    cv.notify_all();
    parked_cv.notify_all();
  }

  std::size_t window() const { return config.pool.readahead_batches * config.options.batch_size; }

  // A streamed data set (`listing`): takes the items listed so far into the epoch's order; whether
  // it changed. Under mu. While the listing runs, an unshuffled order grows by whole batches of
  // this shard's positions (s, s + W, ...), so that neither drop_last nor a last partial batch
  // can take back a position already claimed; a shuffled one waits for the whole listing. When
  // the listing is done, the order is sample_epoch()'s; a listing that failed ends the epoch with
  // its error.
  bool extend_order() {
    if (order_final) return false;
    const bool done = listing->done.load(std::memory_order_acquire);
    const std::size_t n = listing->published.load(std::memory_order_acquire);
    const LoaderOptions& o = config.options;
    if (o.shuffle) {
      if (!done) return false;
      order = sample_epoch(n, o, epoch);
    } else {
      const std::size_t w = std::max<std::size_t>(1, o.world_size * o.num_workers);
      const std::size_t first = o.rank * o.num_workers + o.worker_id;
      std::size_t total = n > first ? (n - first + w - 1) / w : 0;
      if (!done || o.drop_last) total = total / o.batch_size * o.batch_size;
      if (!done && total <= order.size()) return false;
      order.reserve(total);
      for (std::size_t k = order.size(); k < total; ++k) order.push_back(first + k * w);
    }
    if (done) {
      order_final = true;
      if (!listing->error.ok() && !fatal) fatal = listing->error.error();
    }
    return true;
  }

  // Whether the workers ran out of order that a streamed listing can extend (under mu).
  bool awaits_listing() const {
    return !order_final && started && !fatal && !cancel.is_cancelled() &&
           next_claim >= order.size();
  }

  void record_latency(std::chrono::nanoseconds d) {  // under mu
    ++latency_seen;
    if (latencies.size() < kLatencySamples) {
      latencies.push_back(d.count());
    } else if (auto j = reservoir_rng.below(latency_seen); j < kLatencySamples) {
      latencies[j] = d.count();
    }
  }

  // Reads one item. Items of known size from kLoaderPooledMinSize up are read with get_into into
  // a reused buffer: fresh mmap'ed buffers cost a page fault per 4 KiB and an munmap per item,
  // which made 64 MiB items load at 1/7 of `omnio get`'s rate (docs/BENCHMARKS.md). A whole
  // object is read with one byte to spare so that one that grew since it was listed is noticed
  // (then, or when it shrank, it is read again as it is now).
  // The size of the reused buffer an item is read into, or 0 when it is read by the store.
  std::size_t pooled_size(std::size_t index) const {
    const std::optional<std::uint64_t> known = dataset.listed_size(index);
    if (!known || *known < kLoaderPooledMinSize || *known >= (std::uint64_t{1} << 48)) return 0;
    const std::uint64_t want = dataset.range_of(index) ? *known : *known + 1;
    return align_up(static_cast<std::size_t>(want), kLoaderBufferClass);
  }

  // Lets the positions after `pos` take memory (under mu).
  void pass_turn(std::size_t pos) {
    if (pos < alloc_turn) return;  // passed already: kept in alloc_passed, it would stall the turn
    alloc_passed.insert(pos);
    while (!alloc_passed.empty() && *alloc_passed.begin() == alloc_turn) {
      alloc_passed.erase(alloc_passed.begin());
      ++alloc_turn;
    }
    if (auto it = turn_waiters.find(alloc_turn); it != turn_waiters.end()) it->second->notify_one();
  }

  // Wakes every position waiting for its turn (a new epoch or a cancel: they give up). Under mu.
  void wake_turn_waiters() {
    for (auto& [pos, waiter] : turn_waiters) waiter->notify_all();
    turn_waiters.clear();
  }

  // Whether the item's buffer comes from the memory budget and so is taken in claim order. The
  // others (no pooled buffer, or a heap buffer below kLargeBufferThreshold) pass their turn when
  // they are claimed, without a lock of their own.
  bool takes_turn(std::size_t index) const {
    const std::size_t size = pooled_size(index);
    return size != 0 && budgeted_capacity(size, kLoaderBufferAlignment) != 0;
  }

  // The buffer of the item at claim position `pos`, taken in claim order (see alloc_turn) when
  // takes_turn(); null when the item is not read into a reused buffer. Waiting for memory happens
  // here, before the request and its timeout start.
  Result<std::shared_ptr<AlignedBuffer>> item_buffer(std::size_t pos, std::size_t index,
                                                     std::uint64_t gen,
                                                     const CancellationToken& etoken) {
    const std::size_t size = pooled_size(index);
    if (size == 0) return std::shared_ptr<AlignedBuffer>();
    const auto named = [&](Result<std::shared_ptr<AlignedBuffer>> buf) {
      if (!buf.ok()) {
        return Result<std::shared_ptr<AlignedBuffer>>(
            buf.error().wrap(fmt::format("loader: buffer for '{}'", dataset.key(index))));
      }
      return buf;
    };
    if (!takes_turn(index)) {  // the turn passed at the claim
      return named(buffers->acquire(size, etoken));
    }
    std::unique_lock lock(mu);
    return named(acquire_in_turn(lock, pos, size, gen, etoken));
  }

  // Waits (under `lock` on mu) until `pos` may allocate, takes a budget-charged buffer of `size`
  // and passes the turn, whether or not the buffer could be had (`*passed` tells); kCancelled
  // when the epoch ends or is cancelled before the turn comes (the turn is then not passed).
  Result<std::shared_ptr<AlignedBuffer>> acquire_in_turn(std::unique_lock<std::mutex>& lock,
                                                         std::size_t pos, std::size_t size,
                                                         std::uint64_t gen,
                                                         const CancellationToken& etoken,
                                                         bool* passed = nullptr) {
    if (alloc_turn != pos && gen == generation) {
      std::condition_variable_any my_turn;
      turn_waiters[pos] = &my_turn;
      my_turn.wait(lock, etoken.stop_token(),
                   [&] { return alloc_turn == pos || gen != generation; });
      // A new epoch cleared the map (and may have put a waiter of its own at this position).
      if (auto it = turn_waiters.find(pos); it != turn_waiters.end() && it->second == &my_turn) {
        turn_waiters.erase(it);
      }
    }
    if (gen != generation || etoken.is_cancelled()) {
      return Error(ErrorCode::kCancelled, "loader cancelled");
    }
    lock.unlock();
    auto buf = buffers->acquire(size, etoken);
    lock.lock();
    if (gen == generation) pass_turn(pos);
    if (passed != nullptr) *passed = true;
    return buf;
  }

  // Whether an item of unknown size `size` is read into a budget-charged buffer (late_buffer).
  static bool charged(std::uint64_t size) {
    return size >= kLoaderPooledMinSize && size < (std::uint64_t{1} << 48) &&
           budgeted_capacity(align_up(static_cast<std::size_t>(size), kLoaderBufferClass),
                             kLoaderBufferAlignment) != 0;
  }

  // The buffer an item of unknown size is read into, once the store knows its `size` (the
  // BufferSource of get_with_buffer): null (the store allocates) below kLoaderPooledMinSize; a
  // recycled one from there; a budget-charged one only in claim order, after passing the turns of
  // this worker's earlier claims of the group and handing those over (they are read, by fetch,
  // one at a time: only single reads reach here for a charged buffer, see read_group). Held back
  // until the whole group was read, they could be what the consumer needs before it frees the
  // memory this item waits for: with groups larger than the budget's share that was a deadlock.
  // A retry of the read gets the buffer of the first attempt again.
  Result<std::shared_ptr<AlignedBuffer>> late_buffer(Claim& c, std::span<Claim> earlier,
                                                     std::uint64_t size, std::uint64_t gen,
                                                     const CancellationToken& etoken) {
    if (size < kLoaderPooledMinSize || size >= (std::uint64_t{1} << 48)) {
      return std::shared_ptr<AlignedBuffer>();
    }
    const std::size_t cap = align_up(static_cast<std::size_t>(size), kLoaderBufferClass);
    if (!charged(size)) return buffers->try_acquire(cap);
    if (c.held && c.held->capacity() >= cap) return c.held;
    // The object grew between two attempts after its turn: the store's own memory, out of claim
    // order (as a store without get_with_buffer always allocates).
    if (c.turn_passed) return std::shared_ptr<AlignedBuffer>();
    std::unique_lock lock(mu);
    bool wake = false;
    for (Claim& e : earlier) {
      pass_late_turn(e, gen);
      if (e.handed || gen != generation) continue;
      e.handed = true;
      wake = hand_over(e, etoken) || wake;
    }
    if (wake) ready_cv.notify_all();
    auto buf = acquire_in_turn(lock, c.position, cap, gen, etoken, &c.turn_passed);
    if (!buf.ok()) {
      return buf.error().wrap(fmt::format("loader: buffer for '{}'", dataset.key(c.index)));
    }
    c.held = *buf;
    return buf;
  }

  // Passes the turn of a claim of unknown size that has not passed it (under mu).
  void pass_late_turn(Claim& c, std::uint64_t gen) {
    if (!late_turns || c.turn_passed) return;
    c.turn_passed = true;
    if (gen == generation) pass_turn(c.position);
  }

  Result<Bytes> read_item(Claim& c, std::span<Claim> earlier, std::uint64_t gen,
                          const CancellationToken& etoken, const std::string& uri,
                          const std::optional<ItemRange>& range, const ReadOptions& ro,
                          const std::shared_ptr<AlignedBuffer>& pooled) {
    const std::size_t index = c.index;
    ObjectStore& store = dataset.store_of(index);
    const std::optional<std::uint64_t> known = dataset.listed_size(index);
    if (pooled) {
      const std::uint64_t want = range ? *known : *known + 1;
      {
        // Buffers of 2 MiB and more already ask for huge pages (AlignedBuffer::allocate).
        const std::shared_ptr<AlignedBuffer>& buf = pooled;
        AlignedBuffer& b = *buf;
        auto got = store.get_into(uri, range ? range->offset : 0,
                                  std::span(b.data(), static_cast<std::size_t>(want)), ro);
        if (!got.ok()) return got.error();
        if (range || *got == *known) {
          return Bytes::from_shared(buf, b.data(), static_cast<std::size_t>(*got));
        }
        log::debug(
            "loader: {} changed size since it was listed ({} bytes then, {}{} now); "
            "reading it again",
            uri, *known, *got > *known ? "more than " : "", *got);
      }
    }
    if (range) return store.get_range(uri, range->offset, range->length, ro);
    if (known) {
      // A small item (or one read again after it changed size) in the store's memory, but not by
      // get(): a network store's get() takes a budget-charged first range of its chunk size,
      // which would wait for the budget out of claim order (a small item at the head, retried
      // while the large items after it held the budget, hung). get_with_buffer's first range is
      // uncharged.
      static const BufferSource store_memory = [](std::uint64_t) {
        return Result<std::shared_ptr<AlignedBuffer>>(std::shared_ptr<AlignedBuffer>());
      };
      return store.get_with_buffer(uri, store_memory, ro);
    }
    // Size unknown (file:// listings, URI lists): the store asks for the buffer once it knows
    // (file://: from the open file), and it comes from the recycler as for listed sizes, in claim
    // order when budget-charged (late_buffer). A store that does not ask (the default
    // get_with_buffer is get()) allocates its own, waiting for the budget out of claim order.
    return store.get_with_buffer(
        uri, [&](std::uint64_t size) { return late_buffer(c, earlier, size, gen, etoken); }, ro);
  }

  // Turns an item's bytes into what the format delivers.
  Result<Fetched> decode(std::size_t index, Bytes raw) const {
    Fetched f;
    if (config.options.format == ObjectFormat::kRaw && !config.transform) {
      f.data = std::move(raw);
      return f;
    }
    const std::string uri = dataset.key(index);
    switch (config.options.format) {
      case ObjectFormat::kRaw:
        break;
      case ObjectFormat::kNpy: {
        OMNIO_ASSIGN_OR_RETURN(NpyArray a, parse_npy(raw, uri));
        f.arrays.push_back(std::move(a));
        break;
      }
      case ObjectFormat::kNpz: {
        OMNIO_ASSIGN_OR_RETURN(f.arrays, parse_npz(raw, uri));
        break;
      }
      case ObjectFormat::kTfRecord: {
        OMNIO_ASSIGN_OR_RETURN(raw,
                               tfrecord_record_data(raw, uri, dataset.range_of(index)->offset));
        break;
      }
    }
    if (config.transform) {
      auto t2 = config.transform(uri, std::move(raw));
      if (!t2.ok()) return t2.error().wrap(fmt::format("transform of {}", uri));
      raw = std::move(*t2);
    }
    f.data = std::move(raw);
    return f;
  }

  // One item request with retries, then its decoding; runs on a worker thread without the lock.
  // Sets c.data and c.latency.
  // `earlier`: this worker's claims of the group before `c` (read already).
  void fetch(Claim& c, std::span<Claim> earlier, std::uint64_t gen, const CancellationToken& etoken,
             WorkerSlot& slot) {
    if (etoken.is_cancelled()) {  // the rest of a group claimed before a cancel
      c.data = Error(ErrorCode::kCancelled, "loader cancelled");
      return;
    }
    Result<Bytes> r = c.prefetched ? Result<Bytes>(std::move(*c.prefetched))
                                   : fetch_bytes(c, earlier, gen, etoken, slot);
    c.prefetched.reset();
    c.held.reset();  // the bytes keep it
    if (r.ok()) c.raw_size = r->size();
    if (!r.ok()) {
      c.data = r.error();
      return;
    }
    c.data = decode(c.index, std::move(*r));
  }

  // Whether the watchdog sees a worker's reads: with a request timeout, and with the CPU-bound cap
  // possible (a read that stalls must lift the cap, kLoaderCpuBoundStall, even if it began before
  // the cap applied).
  bool watched() const { return config.pool.request_timeout.count() > 0 || cap_possible(); }

  // Arms the worker's slot for a read starting at `t`: the options to read with (the token a
  // request timeout cancels).
  ReadOptions arm(WorkerSlot& slot, std::uint64_t gen, const CancellationToken& etoken,
                  Clock::time_point t) {
    ReadOptions ro;
    ro.cancel = etoken;
    if (!watched()) return ro;
    std::lock_guard g(slot.mu);
    if (config.pool.request_timeout.count() > 0) {
      if (slot.generation != gen || slot.token.is_cancelled()) {
        slot.token = etoken.child();
        slot.generation = gen;
      }
      slot.deadline = t + config.pool.request_timeout;
      ro.cancel = slot.token;
    }
    slot.started = t;
    slot.armed = true;
    slot.timed_out = false;
    return ro;
  }

  // Ends a read armed by arm(): whether the request timeout fired during it.
  bool disarm(WorkerSlot& slot) {
    if (!watched()) return false;
    std::lock_guard g(slot.mu);
    slot.armed = false;
    return slot.timed_out;
  }

  // A group of items of unknown size from a store that reads in batches (file://: one io_uring
  // submission opens, reads and closes them all) is read with one get_batch, buffers from
  // late_buffer as for single reads, each expected to be `hint` bytes (SizeHint: the largest of
  // this worker's recent items). That read stands for each item's first attempt: an item it did not
  // deliver (an error, a timeout, a cancel) is read again by fetch as usual, with its retries, so a
  // failure is reported by the usual path.
  void read_group(std::span<Claim> claims, std::uint64_t hint, std::uint64_t gen,
                  const CancellationToken& etoken, WorkerSlot& slot) {
    ObjectStore& store = dataset.store_of(claims.front().index);
    if (!store.reads_in_batches() || etoken.is_cancelled()) return;
    // Only hints whose buffers the budget does not charge: asking for those takes no allocation
    // turn. An item that turns out to need a charged buffer is left to its own read (fetch), which
    // takes it in claim order.
    if (hint >= (std::uint64_t{1} << 48) || charged(hint)) return;
    for (const Claim& c : claims) {
      if (&dataset.store_of(c.index) != &store || dataset.listed_size(c.index) ||
          dataset.range_of(c.index)) {
        return;
      }
    }
    struct Context {
      State* state;
      std::span<Claim> claims;
      std::uint64_t gen;
      const CancellationToken* etoken;
    } ctx{this, claims, gen, &etoken};
    std::array<BatchRead, kLoaderBatchClaimMax> reads;
    for (std::size_t k = 0; k < claims.size(); ++k) {
      dataset.key_into(claims[k].index, reads[k].uri);
      reads[k].size_hint = hint;
      reads[k].buffer_for = [c = &ctx, k](std::uint64_t size) {
        // A charged buffer only in the item's own read (late_buffer): the group's earlier items
        // are not read yet, so they could not be handed over first.
        if (charged(size)) {
          return Result<std::shared_ptr<AlignedBuffer>>(
              Error(ErrorCode::kResourceExhausted, "larger than the group's size hint"));
        }
        return c->state->late_buffer(c->claims[k], c->claims.first(k), size, c->gen, *c->etoken);
      };
    }
    const auto t = Clock::now();
    const ReadOptions ro = arm(slot, gen, etoken, t);
    Claim& first = claims.front();
    rusage before{};
    const bool sampled = first.sample && getrusage(RUSAGE_THREAD, &before) == 0;
    store.get_batch(std::span(reads).first(claims.size()), ro);
    if (rusage after{}; sampled && getrusage(RUSAGE_THREAD, &after) == 0) {
      first.slept = after.ru_nvcsw != before.ru_nvcsw;
      first.sample = false;  // this was its read
    }
    const bool timed_out = disarm(slot);
    const auto latency = Clock::now() - t;
    for (std::size_t k = 0; k < claims.size(); ++k) {
      if (!reads[k].result.ok() || timed_out) continue;
      claims[k].prefetched = std::move(*reads[k].result);
      claims[k].latency = latency;
      claims[k].batched = claims.size();
    }
  }

  Result<Bytes> fetch_bytes(Claim& c, std::span<Claim> earlier, std::uint64_t gen,
                            const CancellationToken& etoken, WorkerSlot& slot) {
    const std::size_t pos = c.position;
    const std::size_t index = c.index;
    const PoolConfig& pool = config.pool;
    // Reused for every item this worker reads: no allocation per request.
    thread_local std::string uri;
    dataset.key_into(index, uri);
    const std::optional<ItemRange> range = dataset.range_of(index);
    OMNIO_ASSIGN_OR_RETURN(std::shared_ptr<AlignedBuffer> pooled,
                           item_buffer(pos, index, gen, etoken));
    const auto first_attempt = Clock::now();
    for (int attempt = 1;; ++attempt) {
      const auto t = Clock::now();
      const ReadOptions ro = arm(slot, gen, etoken, t);
      // Only the read itself is sampled: waiting for a buffer's turn above says nothing about it.
      // A failed getrusage (not expected) leaves the read unsampled rather than counted as "did
      // not sleep".
      rusage before{};
      const bool sampled = c.sample && getrusage(RUSAGE_THREAD, &before) == 0;
      Result<Bytes> r = read_item(c, earlier, gen, etoken, uri, range, ro, pooled);
      if (rusage after{}; sampled && r.ok() && getrusage(RUSAGE_THREAD, &after) == 0) {
        c.slept = after.ru_nvcsw != before.ru_nvcsw;
      }
      if (range && !r.ok() && r.error().code() == ErrorCode::kOutOfRange) {
        r = Error(ErrorCode::kDataLoss,
                  fmt::format("{}: at byte offset {}: the index names a record past the end of "
                              "the object ({})",
                              uri, range->offset, r.error().to_string()));
      } else if (r.ok() && range && r->size() != range->length) {
        r = Error(ErrorCode::kDataLoss,
                  fmt::format("{}: at byte offset {}: the index names {} bytes but the object "
                              "holds only {} from there",
                              uri, range->offset, range->length, r->size()));
      }
      const bool timed_out = disarm(slot);
      if (r.ok()) c.latency = Clock::now() - t;
      if (timed_out && !r.ok()) {
        r = Error(ErrorCode::kDeadlineExceeded,
                  fmt::format("GET {}: no answer within the loader's request timeout of {} ms", uri,
                              pool.request_timeout.count()));
      }
      if (r.ok()) return r;
      if (etoken.is_cancelled())
        return Error(ErrorCode::kCancelled, fmt::format("GET {}: loader cancelled", uri));
      if (attempt >= pool.retry.max_attempts || !RetryPolicy::is_retryable(r.error())) {
        if (attempt > 1) {  // the HTTP layer's wording, so one grep finds both
          const double secs = std::chrono::duration<double>(Clock::now() - first_attempt).count();
          return r.error().wrap(
              attempt >= pool.retry.max_attempts
                  ? fmt::format("GET {}: retries exhausted after {} attempts over {:.2f} s", uri,
                                attempt, secs)
                  : fmt::format("GET {}: failed on attempt {} of {} after {:.2f} s", uri, attempt,
                                pool.retry.max_attempts, secs));
        }
        return r;
      }
      {
        std::lock_guard g(mu);
        ++m.retries;
      }
      log::debug("loader: GET {} attempt {}/{} failed ({}); retrying", uri, attempt,
                 pool.retry.max_attempts, r.error().to_string());
      const double jitter = static_cast<double>(std::hash<std::string>{}(uri) % 1000) / 1000.0;
      if (!etoken.sleep_for(pool.retry.backoff(attempt + 1, jitter))) {
        return Error(ErrorCode::kCancelled, fmt::format("GET {}: loader cancelled", uri));
      }
    }
  }

  // Claims positions (several at once while reads are fast, see kLoaderGroupBelow), fetches
  // them without the lock, and hands the outcomes over in one lock hold.
  void worker_loop(std::size_t w, std::stop_token stop) {
    WorkerSlot& slot = *slots[w];
    std::vector<Claim> claims;
    claims.reserve(kLoaderBatchClaimMax);
    bool fast = false;     // the last item was read in less than kLoaderGroupBelow
    bool batched = false;  // and the last group was read in one batch
    SizeHint size_hint;    // of this worker's recent items (read_group)
    // PoolConfig::limit_when_cpu_bound: whether this worker samples its reads, and its groups.
    const bool sample_reads = cap_possible();
    std::size_t groups = 0;
    // Wake-ups are sent after the lock is released: a thread woken while the notifier still
    // holds it blocks on it at once (that was 28 % of the loader's context switches).
    bool wake_consumer = false;
    std::unique_lock lock(mu);
    while (!stop.stop_requested()) {
      const auto has_work = [&] {
        return started && !fatal && !cancel.is_cancelled() && next_claim < order.size() &&
               next_claim < base + window() && reading < reading_cap;
      };
      if (!has_work()) {
        if (wake_consumer) {
          wake_consumer = false;
          lock.unlock();
          ready_cv.notify_all();
          lock.lock();
          continue;
        }
        // Which variable is chosen at each wake-up: one woken for the window that finds enough
        // workers reading parks.
        while (!stop.stop_requested() && !has_work()) {
          if (awaits_listing() && !listing_poller) {
            // The order ends where a streamed listing was when last looked at: one idle worker
            // looks for items published since, now and then (the consumer may be busy).
            listing_poller = true;
            while (!stop.stop_requested() && awaits_listing() && !extend_order()) {
              cv.wait_for(lock, loader_detail::kDatasetListingPoll);
            }
            listing_poller = false;
            wake_all_workers();
            ready_cv.notify_all();
            continue;
          }
          (reading >= reading_cap ? parked_cv : cv).wait(lock);
        }
        continue;
      }
      // Items whose buffers come from the memory budget take them in claim order (item_buffer)
      // and are claimed one at a time.
      const std::size_t limit = std::min(order.size(), base + window());
      // A group is at most the window's share of each worker that reads at once.
      const std::size_t want =
          !fast ? 1
                : std::clamp<std::size_t>(window() / reading_cap, 1,
                                          batched ? kLoaderBatchClaimMax : kLoaderClaimMax);
      claims.clear();
      while (true) {
        const std::size_t pos = next_claim++;
        const bool turn = takes_turn(order[pos]);
        if (!turn && !late_turns) pass_turn(pos);
        claims.push_back(Claim{pos, order[pos]});
        if (turn || claims.size() >= want || next_claim >= limit || takes_turn(order[next_claim])) {
          break;
        }
      }
      // The window's free positions are handed out one wake-up at a time (next() wakes one
      // worker; each wakes the next while work is left): waking every worker when the window
      // moved had them all queue for this lock.
      ++reading;
      const bool more = next_claim < limit && reading < reading_cap;
      const std::uint64_t gen = generation;
      CancellationToken etoken = epoch_token;
      lock.unlock();
      if (wake_consumer) ready_cv.notify_all();
      wake_consumer = false;
      if (more) cv.notify_one();
      // This worker's first kLoaderCpuBoundSampleEvery groups are all sampled, then one in that
      // many.
      ++groups;
      claims.front().sample = sample_reads && (!fast || groups <= kLoaderCpuBoundSampleEvery ||
                                               groups % kLoaderCpuBoundSampleEvery == 0);
      if (claims.size() > 1 && size_hint.get() != 0) {
        read_group(claims, size_hint.get(), gen, etoken, slot);
      }
      for (std::size_t k = 0; k < claims.size(); ++k) {
        fetch(claims[k], std::span(claims).first(k), gen, etoken, slot);
        if (claims[k].raw_size != 0) size_hint.note(claims[k].raw_size);
      }
      // A batched item's latency is its batch's; what it cost is its share of it.
      const Claim& last = claims.back();
      fast = last.latency.count() >= 0 &&
             last.latency / std::max<std::size_t>(last.batched, 1) < kLoaderGroupBelow;
      batched = last.batched > 1;
      lock.lock();
      --reading;
      if (claims.front().slept) note_read_sample(*claims.front().slept);
      if (gen != generation) continue;  // an abandoned epoch
      for (Claim& c : claims) {
        if (c.handed) continue;
        pass_late_turn(c, gen);
        wake_consumer = hand_over(c, etoken) || wake_consumer;
      }
    }
    if (wake_consumer) ready_cv.notify_all();
  }

  // One sampled group of reads: whether the worker slept during them. Moves reading_cap between
  // pool_size and cpu_bound_cap (see PoolConfig::limit_when_cpu_bound). Under mu.
  void note_read_sample(bool slept) {
    ++sleep_samples;
    not_sleeping += ((slept ? 0.0 : 1.0) - not_sleeping) / kLoaderCpuBoundWindow;
    if (sleep_samples < kLoaderCpuBoundMinSamples) return;
    if (reading_cap > cpu_bound_cap && not_sleeping >= kLoaderCpuBoundOn) {
      reading_cap = cpu_bound_cap;
      ++m.reading_workers_changes;
      log::debug(
          "loader: reads do not sleep ({:.0f} % of {} samples, {} items in): {} of {} workers "
          "read at once",
          not_sleeping * 100, sleep_samples, m.items, reading_cap, config.pool.pool_size);
    } else if (reading_cap < config.pool.pool_size && not_sleeping < kLoaderCpuBoundOff) {
      reading_cap = config.pool.pool_size;
      ++m.reading_workers_changes;
      log::debug(
          "loader: reads sleep ({:.0f} % of {} samples did not, {} items in): all {} workers read",
          not_sleeping * 100, sleep_samples, m.items, reading_cap);
      wake_all_workers();  // rare: the parked workers go back to work
    }
  }

  // Records a fetched position for the consumer; whether the consumer must be woken. Under mu.
  bool hand_over(Claim& c, const CancellationToken& etoken) {
    Result<Fetched>& r = c.data;
    if (r.ok()) {
      ++m.items;
      m.bytes += r->data.size();
      record_latency(c.latency);
    } else if (r.error().code() != ErrorCode::kCancelled || !etoken.is_cancelled()) {
      ++m.errors;
      if (config.options.on_error == LoaderOptions::OnError::kFail && !fatal) {
        fatal =
            r.error().wrap(fmt::format("loader: item {} ('{}')", c.index, dataset.key(c.index)));
      }
    }
    // The consumer waits for the batch at `base`: an item of a later batch, or one that does not
    // complete it in completion order, cannot end that wait (waking the consumer for each item
    // cost a context switch per item).
    const std::size_t need = std::min(order.size(), base + config.options.batch_size) - base;
    if (config.options.order == LoaderOptions::Order::kSampler) {
      if (c.position < base + config.options.batch_size) ++head_ready;
      ready[c.position % ready.size()].emplace(std::move(r));
      // Only the item that completes the batch wakes it: with few workers nearly every item
      // lands in the head batch, and waking the consumer for each cost a context switch per item.
      return fatal.has_value() || head_ready >= need;
    }
    completed.push_back(Outcome{c.position, std::move(r)});
    return fatal.has_value() || completed.size() >= need;
  }

  // Whether the loader needs the watchdog: request timeouts, or stalled readers while the
  // CPU-bound cap applies.
  bool needs_watchdog() const { return config.pool.request_timeout.count() > 0 || cap_possible(); }

  void watchdog_loop(std::stop_token stop) {
    const bool timed = config.pool.request_timeout.count() > 0;
    auto period = timed ? std::clamp(config.pool.request_timeout / 4, std::chrono::milliseconds(5),
                                     std::chrono::milliseconds(100))
                        : std::chrono::milliseconds(100);
    if (cap_possible()) period = std::min(period, kLoaderCpuBoundStall / 2);
    while (!stop.stop_requested()) {
      const auto now = Clock::now();
      bool stalled = false;
      for (auto& slot : slots) {
        std::lock_guard g(slot->mu);
        if (!slot->armed) continue;
        if (timed && !slot->timed_out && now >= slot->deadline) {
          slot->timed_out = true;
          slot->token.cancel();
        }
        stalled = stalled || now - slot->started >= kLoaderCpuBoundStall;
      }
      if (stalled && cap_possible()) {
        std::lock_guard g(mu);
        if (reading_cap < config.pool.pool_size) {
          reading_cap = config.pool.pool_size;
          not_sleeping = 0;  // as if the reads had slept: the samples must show the cap is right
          ++m.reading_workers_changes;
          log::debug("loader: a read is taking over {} ms: all {} workers read",
                     kLoaderCpuBoundStall.count(), reading_cap);
          wake_all_workers();
        }
      }
      std::unique_lock lock(watchdog_mu);
      watchdog_cv.wait_for(lock, stop, period, [] { return false; });
    }
  }
};

DataLoader::DataLoader(std::shared_ptr<State> s) : s_(std::move(s)) {}

Result<std::unique_ptr<DataLoader>> DataLoader::create(Dataset dataset, LoaderConfig config,
                                                       CancellationToken cancel) {
  OMNIO_TRY(config.validate());
  // A streamed data set holds at least its first object (from_prefix_streamed); its size would
  // wait for the whole listing.
  const loader_detail::DatasetItems* items = loader_detail::DatasetAccess::items(dataset);
  if (items == nullptr || (!items->listing && items->keys.empty()))
    return Error(ErrorCode::kInvalidArgument, "loader: the dataset is empty");
  if (items->listing && items->listing->done.load(std::memory_order_acquire)) {
    OMNIO_TRY(dataset.wait_listed());  // a listing that failed: not a data set to read
  }
  if (config.options.format == ObjectFormat::kTfRecord && !dataset.range_of(0)) {
    return Error(ErrorCode::kInvalidArgument,
                 "loader: options.format tfrecord needs a dataset of records "
                 "(Dataset::tfrecord_records), not of whole objects");
  }
  auto s = std::make_shared<State>();
  s->dataset = std::move(dataset);
  s->config = std::move(config);
  s->cancel = cancel.child();
  s->late_turns = !s->dataset.listed_size(0).has_value();
  const LoaderConfig& c = s->config;
  // Idle buffers kept: the window's, plus the batch the consumer holds, plus the one it is handed
  // before it lets go of the last (`batch = loader.next()`). With one batch fewer, every batch
  // of a full window (32 readers on s3://) evicted 32 buffers and allocated 32 fresh ones.
  s->ready.resize(s->window());
  // Huge-page slabs for the item buffers where reads are kernel copies from the page cache
  // (file://, kRecyclerSlabSize); on s3:// they were not shown to pay (docs/BENCHMARKS.md runs
  // 11-13).
  const bool slabs = loader_detail::DatasetAccess::all_local_files(s->dataset);
  s->buffers =
      BufferRecycler::create(s->window() + 2 * c.options.batch_size, kLoaderBufferAlignment, slabs);
  s->cpu_bound_cap =
      c.pool.limit_when_cpu_bound
          ? std::min(c.pool.pool_size, loader_detail::usable_cpus() * kLoaderCpuBoundWorkersPerCpu)
          : c.pool.pool_size;
  // The cap applies from the start: the first samples lift it within a few reads when reads
  // sleep (or the watchdog, after kLoaderCpuBoundStall), whereas starting with pool_size readers
  // on a page-cached data set cost ~7 % of a 20,000-item run before enough samples said so.
  s->reading_cap = s->cpu_bound_cap;
  State* raw = s.get();
  // Nothing cancels s->cancel while holding mu (DataLoader::cancel() cancels before it locks).
  s->wake_on_cancel.emplace(s->cancel, s->mu,
                            std::initializer_list<std::condition_variable*>{&s->ready_cv});
  s->workers.reserve(s->config.pool.pool_size);
  for (std::size_t i = 0; i < s->config.pool.pool_size; ++i) {
    s->slots.push_back(std::make_unique<WorkerSlot>());
  }
  for (std::size_t i = 0; i < s->config.pool.pool_size; ++i) {
    s->workers.emplace_back([raw, i](std::stop_token st) { raw->worker_loop(i, st); });
  }
  if (s->needs_watchdog()) {
    s->watchdog = std::jthread([raw](std::stop_token st) { raw->watchdog_loop(st); });
  }
  if (items->listing && !items->listing->done.load(std::memory_order_acquire)) {
    s->listing = items->listing.get();
  }
  return std::unique_ptr<DataLoader>(new DataLoader(std::move(s)));
}

DataLoader::~DataLoader() {
  cancel();
  for (auto& w : s_->workers) w.request_stop();
  {
    std::lock_guard g(s_->mu);  // a worker checks stop_requested() under mu before it waits
    s_->wake_all_workers();
  }
  if (s_->watchdog.joinable()) s_->watchdog.request_stop();
  s_->workers.clear();  // joins
  if (s_->watchdog.joinable()) s_->watchdog.join();
}

void DataLoader::cancel() {
  s_->cancel.cancel();
  std::lock_guard g(s_->mu);
  s_->epoch_token.cancel();
  s_->wake_all_workers();
  s_->ready_cv.notify_all();
}

Status DataLoader::start_epoch(std::size_t epoch) {
  State& s = *s_;
  if (s.cancel.is_cancelled()) return Error(ErrorCode::kCancelled, "loader: cancelled");
  // A data set still being listed: the order is built as its items arrive (extend_order).
  std::vector<std::size_t> order;
  if (s.listing == nullptr) order = sample_epoch(s.dataset.size(), s.config.options, epoch);
  std::lock_guard g(s.mu);
  s.epoch_token.cancel();  // abandon the previous epoch's requests
  s.epoch_token = s.cancel.child();
  ++s.generation;
  s.started = true;
  s.epoch = epoch;
  s.order = std::move(order);
  s.next_claim = 0;
  s.base = 0;
  s.alloc_turn = 0;
  s.alloc_passed.clear();
  s.wake_turn_waiters();
  s.batch_number = 0;
  for (auto& slot : s.ready) slot.reset();
  s.head_ready = 0;
  s.completed.clear();
  s.fatal.reset();
  s.fatal_reported = false;
  if (s.listing != nullptr) {
    s.order_final = false;
    s.extend_order();
  }
  if (s.t0 == Clock::time_point{}) s.t0 = Clock::now();
  s.wake_all_workers();
  return ok_status();
}

Result<std::optional<Batch>> DataLoader::next() {
  State& s = *s_;
  const auto t_wait = Clock::now();
  std::unique_lock lock(s.mu);
  const auto waited = [&] { s.m.consumer_wait += Clock::now() - t_wait; };
  if (!s.started) return Error(ErrorCode::kInvalidArgument, "loader: next() before start_epoch()");
  const std::size_t bs = s.config.options.batch_size;
  const bool sampler = s.config.options.order == LoaderOptions::Order::kSampler;
  const auto ready = [&] {
    if (s.fatal || s.cancel.is_cancelled()) return true;
    // At the end of the order: the epoch's end, or a streamed listing's next items to wait for.
    if (s.base >= s.order.size()) return s.order_final;
    const std::size_t need = std::min(s.order.size(), s.base + bs) - s.base;
    // head_ready is kept by the workers (hand_over) and by next().
    return (sampler ? s.head_ready : s.completed.size()) >= need;
  };
  while (!ready()) {
    if (s.order_final) {
      s.ready_cv.wait(lock);
      continue;
    }
    // A streamed listing: look for items published since, now and then.
    s.ready_cv.wait_for(lock, loader_detail::kDatasetListingPoll);
    if (s.extend_order()) s.wake_all_workers();
  }
  waited();
  const std::size_t n = s.order.size();
  if (s.cancel.is_cancelled()) return Error(ErrorCode::kCancelled, "loader: cancelled");
  if (s.fatal) {
    if (s.fatal_reported) return std::optional<Batch>();
    s.fatal_reported = true;
    s.base = n;  // the epoch is over
    return *s.fatal;
  }
  if (s.base >= n) return std::optional<Batch>();  // the end of the epoch
  const std::size_t end = std::min(n, s.base + bs);
  Batch b;
  b.epoch = s.epoch;
  b.number = s.batch_number++;
  // The outcomes leave the ring under the lock; the items (a URI string each) are built after it
  // is released: workers that hand over meanwhile would otherwise block on it and sleep (two
  // context switches a batch).
  std::vector<std::pair<std::size_t, Result<Fetched>>> taken;
  taken.reserve(end - s.base);
  if (sampler) {
    for (std::size_t pos = s.base; pos < end; ++pos) {
      std::optional<Result<Fetched>>& slot = s.ready[pos % s.ready.size()];
      taken.emplace_back(s.order[pos], std::move(*slot));
      slot.reset();
    }
  } else {
    const std::size_t k = end - s.base;
    for (std::size_t i = 0; i < k; ++i) {
      taken.emplace_back(s.order[s.completed[i].position], std::move(s.completed[i].data));
    }
    s.completed.erase(s.completed.begin(), s.completed.begin() + static_cast<std::ptrdiff_t>(k));
  }
  s.base = end;
  ++s.m.batches;
  if (sampler) {  // the items of the next batch that are ready already
    s.head_ready = 0;
    const std::size_t next_end = std::min(n, s.base + bs);
    for (std::size_t pos = s.base; pos < next_end; ++pos) {
      if (s.ready[pos % s.ready.size()]) ++s.head_ready;
    }
  }
  lock.unlock();
  s.cv.notify_one();  // the window moved: one worker claims, and wakes the next (worker_loop)
  for (auto& [index, r] : taken) {
    const auto range = s.dataset.range_of(index);
    Item item{s.dataset.key(index), index, range ? range->offset : 0, Bytes(), {}, std::nullopt};
    if (r.ok()) {
      item.data = std::move(r->data);
      item.arrays = std::move(r->arrays);
      b.items.push_back(std::move(item));
    } else if (s.config.options.on_error == LoaderOptions::OnError::kDeliver) {
      item.error = std::move(r).error();
      b.items.push_back(std::move(item));
    } else {
      b.errors.push_back(ItemError{std::move(item.uri), index, std::move(r).error()});
    }
  }
  return std::optional<Batch>(std::move(b));
}

std::size_t DataLoader::items_per_epoch() const {
  return sample_epoch(s_->dataset.size(), s_->config.options, 0).size();
}

std::vector<std::size_t> DataLoader::epoch_order(std::size_t epoch) const {
  return sample_epoch(s_->dataset.size(), s_->config.options, epoch);
}

LoaderMetrics DataLoader::metrics() const {
  std::lock_guard g(s_->mu);
  LoaderMetrics m = s_->m;
  if (s_->t0 != Clock::time_point{}) m.elapsed = Clock::now() - s_->t0;
  m.reading_workers = s_->reading_cap;
  if (!s_->latencies.empty()) {
    std::vector<std::int64_t> v = s_->latencies;
    auto at = [&](double q) {
      auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
      return std::chrono::nanoseconds(v[k]);
    };
    m.latency_p50 = at(0.50);
    m.latency_p99 = at(0.99);
  }
  return m;
}

}  // namespace omnio
