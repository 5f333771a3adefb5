// DataLoader: an async, cancellable pipeline that feeds training from any ObjectStore.
//
// Every item of a data set is delivered exactly once per epoch (or reported, under the skip
// policy); a bounded window of requests stays full after errors; one CancellationToken stops any
// number of loaders promptly; memory is bounded by the configuration (see LoaderConfig).
//
//   auto ds = omnio::Dataset::from_prefix("s3://bucket/train/", cfg);
//   auto conf = omnio::LoaderConfig::Builder().batch_size(64).shuffle(true).seed(7).build();
//   auto loader = omnio::DataLoader::create(*ds, *conf, token);
//   (*loader)->start_epoch(0);
//   while (true) {
//     auto b = (*loader)->next();            // Result<std::optional<Batch>>
//     if (!b.ok()) { ...error... } else if (!*b) break;   // end of epoch
//     for (auto& item : (*b)->items) train(item.data);
//   }
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "omnio/bytes.h"
#include "omnio/cancel.h"
#include "omnio/config.h"
#include "omnio/constants.h"
#include "omnio/formats.h"
#include "omnio/object_store.h"
#include "omnio/range_engine.h"
#include "omnio/records.h"
#include "omnio/result.h"
#include "omnio/retry.h"

namespace omnio {

namespace loader_detail {
struct DatasetItems;   // src/loader/dataset_items.h
struct DatasetAccess;  // the DataLoader's view of a listing in progress (src/loader/loader.cc)
}  // namespace loader_detail

/// A byte range of an object: one record of a record dataset.
struct ItemRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

/// The items of a data set: the objects of a sorted listing of a prefix, an explicit list, or a
/// file of URIs; or the records inside TFRecord objects (tfrecord_records). Map-style: known
/// length, random access by index.
class Dataset {
 public:
  /// An empty data set (size() 0).
  Dataset();
  /// Every object under `prefix_uri` (recursive, string-prefix semantics, sorted); directories
  /// are skipped. kInvalidArgument if the listing is empty. Sizes are kept where the listing has
  /// them for free (listed_size()). `cancel` ends the listing, a page request in flight included
  /// (kCancelled).
  static Result<Dataset> from_prefix(std::string_view prefix_uri, const Config& config = {},
                                     const CancellationToken& cancel = {});
  /// from_prefix() that returns as soon as the listing's first object is in and lists the rest on
  /// a background thread, so that reading starts before a long listing (millions of keys, one
  /// page of 1,000 per request) ends. A DataLoader reads an unshuffled epoch in listing order as
  /// the items arrive; a shuffled one, items_per_epoch() and epoch_order() wait for the whole
  /// listing. A listing that fails after the first object ends the loader's epoch with its error
  /// (wait_listed() returns it). Destroying the last copy stops the listing, interrupting the
  /// page request in flight (ObjectStore::list_keys_stream's cancel), and joins its thread. So
  /// does `cancel`: this call then returns kCancelled if no object was listed yet, and otherwise
  /// the listing ends with kCancelled (wait_listed(), and the epoch of a loader waiting for it).
  static Result<Dataset> from_prefix_streamed(std::string_view prefix_uri,
                                              const Config& config = {},
                                              const CancellationToken& cancel = {});
  /// from_prefix_streamed() over `store` (for tests and custom stores).
  static Result<Dataset> from_prefix_streamed(std::shared_ptr<ObjectStore> store,
                                              std::string_view prefix_uri,
                                              const CancellationToken& cancel = {});
  /// These URIs, in this order (duplicates allowed: each is an item). Stores are created per
  /// scheme.
  static Result<Dataset> from_uris(std::vector<std::string> uris, const Config& config = {});
  /// One URI (or local path) per line of a local text file; blank lines and '#' comments skipped.
  /// Same as from_key_list(path, "", config).
  static Result<Dataset> from_uri_file(const std::string& path, const Config& config = {});
  /// The objects of a key list (manifest; omnio/key_list.h), in file order: `omnio ls -r --json`
  /// output or plain lines of URIs, paths, or keys relative to `base` (a prefix URI; empty = none
  /// allowed). No listing: a 10^7-object data set starts without one LIST request. Sizes written
  /// by ls --json are kept (listed_size) when every line has one. Errors name the file and line.
  static Result<Dataset> from_key_list(const std::string& path, const std::string& base = {},
                                       const Config& config = {});
  /// For tests and custom stores: these URIs, all served by `store`.
  static Dataset with_store(std::shared_ptr<ObjectStore> store, std::vector<std::string> uris);

  /// One item per record of the TFRecord objects of `files` (objects whose names end in ".idx"
  /// are indexes, not data, and are left out). Each object's index is read from URI + ".idx"
  /// (`index_format`; kAuto tells text from binary); an object without one is read once and
  /// scanned, CRCs verified. The loader then reads each record by a ranged GET of its bytes.
  /// Errors name the object (and the index line or byte offset).
  static Result<Dataset> tfrecord_records(
      const Dataset& files, TfRecordIndexFormat index_format = TfRecordIndexFormat::kAuto);

  /// Waits for a streamed listing (from_prefix_streamed) to end; its error when it stopped early
  /// (size() then counts the objects listed before the error). ok for every other data set.
  Status wait_listed() const;
  /// The number of items. A streamed data set's size waits for its listing to end.
  std::size_t size() const;
  /// The object URI of item `i` (a TFRecord object's URI repeats once per record). On a streamed
  /// data set, this and the other per-item accessors wait until item `i` is listed.
  std::string key(std::size_t i) const;
  /// key(i), written into `out` (whose memory is reused).
  void key_into(std::size_t i, std::string& out) const;
  /// Every item's URI in order: a copy, one string per item (key(i) reads one). The data set
  /// itself keeps its URIs compact: their common prefix once, then each one's tail back to back
  /// (16 bytes an item plus its tail, not a std::string and a heap block of ~130).
  std::vector<std::string> keys() const;
  /// The store serving item `i`.
  ObjectStore& store_of(std::size_t i) const;
  /// The byte range of item `i` inside its object, or nullopt when the item is the whole object.
  std::optional<ItemRange> range_of(std::size_t i) const;
  /// The size of item `i` as listed (s3://, az://, gs:// listings, ls --json key lists) or
  /// indexed (a record's length); nullopt when unknown (URI lists, and file:// and direct://
  /// listings, which leave sizes out rather than stat every file). The loader reads whole objects
  /// into reused buffers either way: an unknown size is learned when the object is opened
  /// (ObjectStore::get_with_buffer).
  std::optional<std::uint64_t> listed_size(std::size_t i) const;

 private:
  friend struct loader_detail::DatasetAccess;
  using Items = loader_detail::DatasetItems;  // per-item arrays, compact
  Dataset(std::shared_ptr<const Items> items, std::vector<std::shared_ptr<ObjectStore>> stores);

  std::shared_ptr<const Items> items_;
  std::vector<std::shared_ptr<ObjectStore>> stores_;
};

/// What the loader produces and in which order.
struct LoaderOptions {
  enum class Order {
    kSampler,     ///< batches in sampler order (default; deterministic)
    kCompletion,  ///< items in completion order (opt-in, for throughput)
  };
  enum class OnError {
    kFail,     ///< the stream ends with the error (default)
    kSkip,     ///< the item is left out and reported in Batch::errors and the metrics
    kDeliver,  ///< the item is delivered with its error instead of data
  };
  std::size_t batch_size = kDefaultLoaderBatchSize;
  bool shuffle = false;
  /// Shuffle seed; the order of epoch e is a pure function of (seed, epoch, dataset size):
  /// a Fisher-Yates shuffle driven by SplitMix64 (docs/ARCHITECTURE.md "DataLoader").
  std::uint64_t seed = 0;
  bool drop_last = false;
  /// Distributed sharding: this process is `rank` of `world_size`, this loader is `worker_id` of
  /// `num_workers` inside it. Shard s = rank * num_workers + worker_id takes positions
  /// s, s + W, s + 2W, ... (W = world_size * num_workers) of the epoch's order: disjoint, complete.
  std::size_t rank = 0;
  std::size_t world_size = 1;
  std::size_t worker_id = 0;
  std::size_t num_workers = 1;
  Order order = Order::kSampler;
  OnError on_error = OnError::kFail;
  /// What an item's bytes are (omnio/records.h): kRaw delivers them as they are; kNpy and kNpz
  /// parse the object into Item::arrays (zero-copy for stored data); kTfRecord needs a record
  /// dataset (Dataset::tfrecord_records), verifies each record's CRCs and delivers its data. A
  /// parse or CRC failure is an item error (kDataLoss naming the object and byte offset), not
  /// retried.
  ObjectFormat format = ObjectFormat::kRaw;
};

/// How the loader fetches.
struct PoolConfig {
  /// Item requests in flight (one worker thread each).
  std::size_t pool_size = kDefaultLoaderPoolSize;
  /// Batches fetched ahead of the consumer. Items held (in flight + ready) <= readahead_batches x
  /// batch_size, so memory <= that x the largest item.
  std::size_t readahead_batches = kDefaultLoaderReadaheadBatches;
  /// Per-request timeout (0 = none); a request past it is cancelled and counts as transient.
  std::chrono::milliseconds request_timeout{kDefaultLoaderRequestTimeoutMs};
  /// Retries of transient failures (RetryPolicy::is_retryable, timeouts) per item.
  RetryPolicy retry = [] {
    RetryPolicy p;
    p.max_attempts = kDefaultLoaderAttempts;
    return p;
  }();
  /// While nearly every read finishes without its worker sleeping (page-cache hits: the read is a
  /// memory copy and needs a CPU, not a request in flight), at most kLoaderCpuBoundWorkersPerCpu x
  /// (CPUs this process may run on) workers read at once: more only queue for the CPUs and cost
  /// context switches. The loader starts so; as soon as reads sleep (disk, network, a cold cache;
  /// within the first ~16 reads) or one read takes over 50 ms, all pool_size read. The loader tells
  /// by the worker thread's voluntary context switches over a sample of reads (one group in 8,
  /// every one while reads are slow). false = always pool_size.
  bool limit_when_cpu_bound = kDefaultLoaderLimitWhenCpuBound;
};

/// Optional per-item hook, run on the worker thread: turn the raw bytes into what training wants
/// (decode, verify). An error counts like a failed request (not retried).
using ItemTransform = std::function<Result<Bytes>(const std::string& uri, Bytes data)>;

/// The one configuration surface: what (LoaderOptions), how (PoolConfig) and, per large object, the
/// RangeEngine of the stores the data set creates (Config). Build it with Builder, which validates
/// the whole.
struct LoaderConfig {
  LoaderOptions options;
  PoolConfig pool;
  /// Store configuration (RangeEngineConfig of direct:// and network stores) for Dataset factories.
  Config store;
  ItemTransform transform;

  /// kInvalidArgument naming the field: batch_size 0, pool_size 0 or > kMaxLoaderPoolSize,
  /// readahead_batches 0, rank >= world_size, worker_id >= num_workers, a bad retry policy, a
  /// RangeEngine chunk smaller than the direct:// alignment, ...
  Status validate() const;

  class Builder;
};

class LoaderConfig::Builder {
 public:
  /// Starts from the defaults, then applies OMNIO_LOADER_* environment overrides
  /// (docs/CONFIGURATION.md); explicit setters win over both.
  Builder();
  Builder& batch_size(std::size_t v) {
    c_.options.batch_size = v;
    return *this;
  }
  Builder& shuffle(bool v) {
    c_.options.shuffle = v;
    return *this;
  }
  Builder& seed(std::uint64_t v) {
    c_.options.seed = v;
    return *this;
  }
  Builder& drop_last(bool v) {
    c_.options.drop_last = v;
    return *this;
  }
  Builder& shard(std::size_t rank, std::size_t world_size) {
    c_.options.rank = rank;
    c_.options.world_size = world_size;
    return *this;
  }
  Builder& worker(std::size_t worker_id, std::size_t num_workers) {
    c_.options.worker_id = worker_id;
    c_.options.num_workers = num_workers;
    return *this;
  }
  Builder& order(LoaderOptions::Order v) {
    c_.options.order = v;
    return *this;
  }
  Builder& on_error(LoaderOptions::OnError v) {
    c_.options.on_error = v;
    return *this;
  }
  Builder& format(ObjectFormat v) {
    c_.options.format = v;
    return *this;
  }
  Builder& pool_size(std::size_t v) {
    c_.pool.pool_size = v;
    return *this;
  }
  Builder& limit_when_cpu_bound(bool v) {
    c_.pool.limit_when_cpu_bound = v;
    return *this;
  }
  Builder& readahead_batches(std::size_t v) {
    c_.pool.readahead_batches = v;
    return *this;
  }
  Builder& request_timeout(std::chrono::milliseconds v) {
    c_.pool.request_timeout = v;
    return *this;
  }
  Builder& retry(const RetryPolicy& v) {
    c_.pool.retry = v;
    return *this;
  }
  /// RangeEngine of large objects on direct:// and network stores.
  Builder& range_chunk_size(std::size_t v);
  Builder& max_concurrent_ranges(std::size_t v);
  Builder& store_config(const Config& v) {
    c_.store = v;
    return *this;
  }
  Builder& transform(ItemTransform v) {
    c_.transform = std::move(v);
    return *this;
  }
  /// The validated configuration, or the first invalid field.
  Result<LoaderConfig> build() const;

 private:
  LoaderConfig c_;
  Status env_error_;
};

/// One delivered item.
struct Item {
  std::string uri;
  /// Position in the data set (Dataset::keys()).
  std::size_t index = 0;
  /// Where the item starts in its object (a record's offset; 0 for a whole object).
  std::uint64_t offset = 0;
  /// The object's bytes; a TFRecord record's data under ObjectFormat::kTfRecord.
  Bytes data;
  /// kNpy / kNpz: the arrays parsed from `data` (their bytes are views into it when stored).
  std::vector<NpyArray> arrays;
  /// Set only under OnError::kDeliver, for an item that failed (data is then empty).
  std::optional<Error> error;
};

/// A failed item reported under OnError::kSkip.
struct ItemError {
  std::string uri;
  std::size_t index = 0;
  Error error;
};

struct Batch {
  std::size_t epoch = 0;
  /// 0, 1, 2, ... within the epoch (this loader's shard).
  std::size_t number = 0;
  std::vector<Item> items;
  /// Items skipped under OnError::kSkip whose failure surfaced in this batch.
  std::vector<ItemError> errors;
};

/// Counters since create(); consistent snapshot.
struct LoaderMetrics {
  std::uint64_t items = 0;
  std::uint64_t bytes = 0;
  std::uint64_t batches = 0;
  std::uint64_t retries = 0;
  std::uint64_t errors = 0;
  /// Wall time since the first start_epoch().
  std::chrono::nanoseconds elapsed{0};
  /// Time the consumer spent blocked in next(): close to elapsed = loader-bound; small =
  /// compute-bound.
  std::chrono::nanoseconds consumer_wait{0};
  /// Item request latencies (successful), for percentiles.
  std::chrono::nanoseconds latency_p50{0};
  std::chrono::nanoseconds latency_p99{0};
  /// Workers allowed to read at once when the metrics were taken: pool_size, or fewer while reads
  /// are CPU-bound (PoolConfig::limit_when_cpu_bound).
  std::size_t reading_workers = 0;
  /// How often the loader changed that number (to fewer, or back to pool_size).
  std::uint64_t reading_workers_changes = 0;
  double items_per_second() const;
  double bytes_per_second() const;
};

class DataLoader {
 public:
  /// Validates `config`; `cancel` (optional) stops the loader together with anything else sharing
  /// the token. No request is made before start_epoch().
  static Result<std::unique_ptr<DataLoader>> create(Dataset dataset, LoaderConfig config,
                                                    CancellationToken cancel = {});
  /// Cancels and joins every worker: destroying a loader mid-epoch is a clean cancel.
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  /// Begins epoch `epoch` (any earlier epoch is abandoned, its requests cancelled). The order is
  /// fixed by (seed, epoch).
  Status start_epoch(std::size_t epoch);
  /// The next batch; std::nullopt at the end of the epoch; kCancelled once cancelled (then always);
  /// under OnError::kFail the first failed item's error (then the epoch is over).
  Result<std::optional<Batch>> next();
  /// Stops new requests, interrupts in-flight ones (range downloads included), wakes next().
  void cancel();
  /// Number of items this loader's shard delivers per epoch (after sharding and drop_last).
  std::size_t items_per_epoch() const;
  /// The dataset indexes of this loader's shard in delivery order for `epoch` (sampler order).
  std::vector<std::size_t> epoch_order(std::size_t epoch) const;
  LoaderMetrics metrics() const;

 private:
  struct State;
  explicit DataLoader(std::shared_ptr<State> s);
  std::shared_ptr<State> s_;
};

/// What run_loader did.
struct LoadRunReport {
  /// The loader's counters over every epoch run.
  LoaderMetrics metrics;
  /// Epochs run to their end.
  std::size_t epochs = 0;
  /// CPU seconds of the whole process during the run (getrusage).
  double cpu_user_seconds = 0;
  double cpu_system_seconds = 0;
  /// OnError::kSkip: the items left out (every one, in the order they surfaced).
  std::vector<ItemError> skipped;
  /// OnError::kDeliver: items delivered with an error instead of data.
  std::uint64_t delivered_errors = 0;
};

/// Runs epochs 0..epochs-1 of a loader over `dataset` and drops the data: `omnio load`, the
/// loader's benchmark. `on_batch` (optional) sees every batch on the calling thread. Under
/// OnError::kFail the first item error ends the run with that error.
Result<LoadRunReport> run_loader(Dataset dataset, LoaderConfig config, std::size_t epochs,
                                 const CancellationToken& cancel = {},
                                 const std::function<void(const Batch&)>& on_batch = {});

/// The sampler alone: the dataset indexes that `options`' shard visits in `epoch`, in order.
std::vector<std::size_t> sample_epoch(std::size_t dataset_size, const LoaderOptions& options,
                                      std::size_t epoch);

}  // namespace omnio
