// The per-item arrays of a Dataset (omnio/loader.h), kept compact, and the listing that may still
// be filling them (Dataset::from_prefix_streamed).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "core/pod_vector.h"
#include "omnio/cancel.h"
#include "omnio/loader.h"
#include "omnio/result.h"

namespace omnio::loader_detail {

// How often a reader waiting for a streamed listing (its size, an item not listed yet, the
// loader's next positions) looks at how far it has got.
inline constexpr std::chrono::milliseconds kDatasetListingPoll{1};

// A listing that is still appending items, on its own thread (Dataset::from_prefix_streamed).
//
// Readers use the items below `published` (acquire) while the thread appends past it: the two
// never touch the same element. Only growing an array moves it; the thread does that holding
// `grow_mu` exclusively, and readers hold it shared until `done`. After `done` (acquire) the
// arrays never change again and readers take no lock.
struct DatasetListing {
  std::shared_mutex grow_mu;
  std::atomic<std::size_t> published{0};
  std::atomic<bool> done{false};
  // Whether the items carry the listing's sizes (decided by the first entry, before it is
  // published).
  bool sized = false;
  // Why the listing ended early (ok when it listed everything); written before `done`.
  Status error;
  // Waits for `published` / `done`: the listing notifies `cv` after its first object and when it
  // is done; between the two, waiters look again every kDatasetListingPoll.
  std::mutex mu;
  std::condition_variable cv;
  // Cancelled when the items are destroyed, and a child of the caller's token: the listing stops
  // at once (a page request in flight is interrupted: list_keys_stream takes it).
  CancellationToken stop;
  std::thread thread;

  // Blocks until more than `i` items are published or the listing is done.
  void wait_past(std::size_t i) {
    std::unique_lock lock(mu);
    while (published.load(std::memory_order_acquire) <= i &&
           !done.load(std::memory_order_acquire)) {
      cv.wait_for(lock, kDatasetListingPoll);
    }
  }
  void wait_done() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done.load(std::memory_order_acquire); });
  }
};

// Per-item arrays. URIs are kept as one common prefix (`base`) and each item's tail back to back
// in one arena: an item costs 16 bytes plus its tail instead of a std::string plus a heap block,
// and the arrays grow with realloc (PodVector), so building them faults in each page once (a
// vector of strings made loading 20,000 files spend ~15 ms in page faults before its first read).
struct DatasetItems {
  struct Key {
    std::uint64_t off;    // of the tail in `tails`
    std::uint32_t len;    // of the tail
    std::uint32_t store;  // index into Dataset::stores_
  };
  std::string base;
  PodVector<char> tails;
  PodVector<Key> keys;
  PodVector<ItemRange> ranges;     // empty, or one per item
  PodVector<std::uint64_t> sizes;  // empty, or the listing's size per item
  // Set while (and after) a streamed listing fills the arrays; null for items built whole.
  std::unique_ptr<DatasetListing> listing;

  DatasetItems() = default;
  DatasetItems(const DatasetItems&) = delete;
  DatasetItems& operator=(const DatasetItems&) = delete;
  // Stops a listing still running and waits for its thread (its store request is interrupted).
  ~DatasetItems() {
    if (listing && listing->thread.joinable()) {
      listing->stop.cancel();
      listing->thread.join();
    }
  }

  std::string_view tail(const Key& k) const { return {tails.data() + k.off, k.len}; }

  // Whether the arrays may still change: readers then hold listing->grow_mu shared.
  bool growing() const {
    return listing != nullptr && !listing->done.load(std::memory_order_acquire);
  }
  bool has_sizes() const { return listing ? listing->sized : !sizes.empty(); }

  void add(std::string_view uri, std::uint32_t store) {
    if (uri.substr(0, base.size()) != base) rebase();
    const std::string_view t = uri.substr(base.size());
    keys.push_back(Key{tails.size(), static_cast<std::uint32_t>(t.size()), store});
    tails.append(t.data(), t.size());
  }

  // add() on the listing thread while readers may read the published items: an array that must
  // grow (and so move), and a rebase, happen under grow_mu held exclusively.
  void add_listed(std::string_view uri, std::uint32_t store, const std::uint64_t* size) {
    const bool in_base = uri.substr(0, base.size()) == base;
    const std::size_t tail = uri.size() - (in_base ? base.size() : 0);
    if (!in_base || keys.size() == keys.capacity() || tails.capacity() - tails.size() < tail ||
        (size != nullptr && sizes.size() == sizes.capacity())) {
      std::unique_lock g(listing->grow_mu);
      if (!in_base) rebase();
      keys.reserve(keys.size() * 2 + 16);
      tails.reserve((tails.size() + uri.size()) * 2 + 256);
      if (size != nullptr) sizes.reserve(sizes.size() * 2 + 16);
    }
    add(uri, store);
    if (size != nullptr) sizes.push_back(*size);
  }

  // A URI that does not start with `base` (not expected of a listing; URI lists get their common
  // prefix up front): every tail takes the base back and the base becomes empty, once.
  void rebase() {
    PodVector<char> all;
    all.reserve(tails.size() + keys.size() * base.size());
    for (Key& k : keys) {
      const std::string_view t = tail(k);
      const std::uint64_t off = all.size();
      all.append(base.data(), base.size());
      all.append(t.data(), t.size());
      k = Key{off, static_cast<std::uint32_t>(base.size() + t.size()), k.store};
    }
    tails = std::move(all);
    base.clear();
  }
};

}  // namespace omnio::loader_detail
