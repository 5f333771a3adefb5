// The per-item arrays of a Dataset (omnio/loader.h), kept compact.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/pod_vector.h"
#include "omnio/loader.h"

namespace omnio::loader_detail {

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

  std::string_view tail(const Key& k) const { return {tails.data() + k.off, k.len}; }

  void add(std::string_view uri, std::uint32_t store) {
    if (uri.substr(0, base.size()) != base) rebase();
    const std::string_view t = uri.substr(base.size());
    keys.push_back(Key{tails.size(), static_cast<std::uint32_t>(t.size()), store});
    tails.append(t.data(), t.size());
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
