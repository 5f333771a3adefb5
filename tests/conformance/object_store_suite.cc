#include "conformance/object_store_suite.h"

#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "omnio/constants.h"
#include "omnio/crc32c.h"
#include "omnio/store_factory.h"

namespace omnio::conformance {

void ObjectStoreConformance::SetUp() {
  if (!GetParam().skip_reason.empty()) GTEST_SKIP() << GetParam().skip_reason;
  prefix_ = GetParam().make_prefix();
  auto s = store_for_uri(prefix_, GetParam().config);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  store_ = *s;
}

void ObjectStoreConformance::TearDown() {
  if (GetParam().cleanup && !prefix_.empty()) GetParam().cleanup(prefix_);
}

std::string backend_name(const ::testing::TestParamInfo<ConformanceBackend>& info) {
  return info.param.name;
}

Bytes pattern_bytes(std::size_t n, std::uint64_t seed) {
  std::vector<std::byte> v(n);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    v[i] = std::byte(x >> 24);
  }
  return Bytes::from_vector(std::move(v));
}

namespace {

#define ASSERT_OK(expr)                                              \
  do {                                                               \
    auto&& r_ = (expr);                                              \
    ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().to_string(); \
  } while (0)

TEST_P(ObjectStoreConformance, PutGetRoundTripSizes) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{4095}, std::size_t{4096},
                        std::size_t{(1 << 20) + 7}}) {
    Bytes data = pattern_bytes(n, n);
    std::string u = uri("obj-" + std::to_string(n));
    ASSERT_OK(store_->put(u, data));
    auto got = store_->get(u);
    ASSERT_OK(got);
    EXPECT_EQ(*got, data) << "size " << n;
  }
}

TEST_P(ObjectStoreConformance, OverwriteReplacesContent) {
  ASSERT_OK(store_->put(uri("o"), pattern_bytes(10000, 1)));
  ASSERT_OK(store_->put(uri("o"), pattern_bytes(300, 2)));
  auto got = store_->get(uri("o"));
  ASSERT_OK(got);
  EXPECT_EQ(*got, pattern_bytes(300, 2));
}

TEST_P(ObjectStoreConformance, GetMissingIsNotFound) {
  auto got = store_->get(uri("missing"));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), ErrorCode::kNotFound) << got.error().to_string();
  EXPECT_EQ(store_->stat(uri("missing")).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->get_range(uri("missing"), 0, 1).error().code(), ErrorCode::kNotFound);
}

TEST_P(ObjectStoreConformance, RangeRule) {
  Bytes data = pattern_bytes(10000);
  ASSERT_OK(store_->put(uri("r"), data));
  auto r = store_->get_range(uri("r"), 100, 50);
  ASSERT_OK(r);
  EXPECT_EQ(*r, data.slice(100, 50));
  auto to_end = store_->get_range(uri("r"), 9000, std::nullopt);
  ASSERT_OK(to_end);
  EXPECT_EQ(*to_end, data.slice(9000));
  auto past = store_->get_range(uri("r"), 9990, 100);  // runs past the end: the bytes that exist
  ASSERT_OK(past);
  EXPECT_EQ(*past, data.slice(9990));
  auto at_end = store_->get_range(uri("r"), 10000, 5);
  ASSERT_OK(at_end);
  EXPECT_EQ(at_end->size(), 0u);
  auto zero = store_->get_range(uri("r"), 5, 0);
  ASSERT_OK(zero);
  EXPECT_EQ(zero->size(), 0u);
  auto beyond = store_->get_range(uri("r"), 10001, 1);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.error().code(), ErrorCode::kOutOfRange) << beyond.error().to_string();
  auto whole = store_->get_range(uri("r"), 0, std::nullopt);
  ASSERT_OK(whole);
  EXPECT_EQ(*whole, data);
}

TEST_P(ObjectStoreConformance, RangeOnEmptyObject) {
  ASSERT_OK(store_->put(uri("empty"), Bytes()));
  auto r = store_->get_range(uri("empty"), 0, std::nullopt);
  ASSERT_OK(r);
  EXPECT_EQ(r->size(), 0u);
  EXPECT_EQ(store_->get_range(uri("empty"), 1, 1).error().code(), ErrorCode::kOutOfRange);
}

TEST_P(ObjectStoreConformance, GetInto) {
  Bytes data = pattern_bytes(70000);
  ASSERT_OK(store_->put(uri("gi"), data));
  std::vector<std::byte> buf(1000);
  auto n = store_->get_into(uri("gi"), 12345, buf);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1000u);
  EXPECT_EQ(Bytes::copy_of(buf), data.slice(12345, 1000));
  std::vector<std::byte> tail(5000);
  auto m = store_->get_into(uri("gi"), 69000, tail);  // object ends first
  ASSERT_OK(m);
  EXPECT_EQ(*m, 1000u);
  EXPECT_EQ(Bytes::copy_of(std::span(tail).first(1000)), data.slice(69000));
  EXPECT_EQ(store_->get_into(uri("gi"), 70001, buf).error().code(), ErrorCode::kOutOfRange);
}

TEST_P(ObjectStoreConformance, StatFields) {
  Bytes data = pattern_bytes(1234);
  ASSERT_OK(store_->put(uri("s"), data));
  auto m = store_->stat(uri("s"));
  ASSERT_OK(m);
  EXPECT_EQ(m->size, 1234u);
  EXPECT_FALSE(m->etag.empty());
  // RFC 3339 UTC: 2026-11-25T01:02:03[.fraction]Z
  ASSERT_GE(m->last_modified.size(), 20u) << m->last_modified;
  EXPECT_EQ(m->last_modified[4], '-');
  EXPECT_EQ(m->last_modified[10], 'T');
  EXPECT_EQ(m->last_modified.back(), 'Z');
  auto before = m->etag;
  ASSERT_OK(store_->put(uri("s"), pattern_bytes(1235)));
  EXPECT_NE(store_->stat(uri("s"))->etag, before);
}

TEST_P(ObjectStoreConformance, ExistsIsFalseOnlyForNotFound) {
  ASSERT_OK(store_->put(uri("e"), pattern_bytes(3)));
  EXPECT_TRUE(*store_->exists(uri("e")));
  auto missing = store_->exists(uri("nope"));
  ASSERT_OK(missing);
  EXPECT_FALSE(*missing);
}

TEST_P(ObjectStoreConformance, ListStringPrefixSortedFullUris) {
  for (auto n : {"img_002", "img_001", "img_010", "imgx", "label.txt", "sub/a", "sub/b/c"}) {
    ASSERT_OK(store_->put(uri(n), pattern_bytes(7)));
  }
  auto l = store_->list(uri("img_"), true);
  ASSERT_OK(l);
  EXPECT_EQ(*l, (std::vector<std::string>{uri("img_001"), uri("img_002"), uri("img_010")}));
  auto all = store_->list(prefix_, true);
  ASSERT_OK(all);
  EXPECT_EQ(*all,
            (std::vector<std::string>{uri("img_001"), uri("img_002"), uri("img_010"), uri("imgx"),
                                      uri("label.txt"), uri("sub/a"), uri("sub/b/c")}));
  auto flat = store_->list(prefix_, false);
  ASSERT_OK(flat);
  EXPECT_EQ(*flat, (std::vector<std::string>{uri("img_001"), uri("img_002"), uri("img_010"),
                                             uri("imgx"), uri("label.txt"), uri("sub/")}));
  auto sub = store_->list(uri("sub/"), false);
  ASSERT_OK(sub);
  EXPECT_EQ(*sub, (std::vector<std::string>{uri("sub/a"), uri("sub/b/")}));
  auto entries = store_->list_entries(uri("sub/"), true);
  ASSERT_OK(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].size, 7u);
  EXPECT_FALSE((*entries)[0].is_dir);
  auto none = store_->list(uri("zzz"), true);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

// A cancelled token ends a listing with kCancelled and hands nothing to the sink; a token cancelled
// by the sink (at the first entry) ends it there, kCancelled or the sink's own error.
TEST_P(ObjectStoreConformance, ListingsStopOnTheirCancellationToken) {
  for (auto n : {"c/a", "c/b", "c/d/e"}) ASSERT_OK(store_->put(uri(n), pattern_bytes(10)));
  for (bool keys : {false, true}) {
    const auto list = [&](const ListSink& sink, const CancellationToken& cancel) {
      return keys ? store_->list_keys_stream(uri("c/"), true, sink, cancel)
                  : store_->list_stream(uri("c/"), true, sink, cancel);
    };
    CancellationToken cancelled;
    cancelled.cancel();
    int seen = 0;
    Status st = list(
        [&](ListEntry&&) {
          ++seen;
          return ok_status();
        },
        cancelled);
    ASSERT_FALSE(st.ok()) << (keys ? "list_keys_stream" : "list_stream");
    EXPECT_EQ(st.error().code(), ErrorCode::kCancelled) << st.error().to_string();
    EXPECT_EQ(seen, 0);
    CancellationToken mid;
    seen = 0;
    st = list(
        [&](ListEntry&&) {
          ++seen;
          mid.cancel();
          return ok_status();
        },
        mid);
    ASSERT_FALSE(st.ok()) << (keys ? "list_keys_stream" : "list_stream");
    EXPECT_EQ(st.error().code(), ErrorCode::kCancelled) << st.error().to_string();
    EXPECT_EQ(seen, 1);
  }
}

TEST_P(ObjectStoreConformance, ListKeysStreamSameEntriesSizesWhereKnown) {
  for (auto n : {"k/a", "k/b/c", "k/b-d", "k/e"}) {
    ASSERT_OK(store_->put(uri(n), pattern_bytes(std::string_view(n).size() * 10)));
  }
  for (bool recursive : {true, false}) {
    std::vector<ListEntry> with, keys;
    ASSERT_OK(store_->list_stream(uri("k/"), recursive, [&](ListEntry&& e) {
      with.push_back(std::move(e));
      return ok_status();
    }));
    ASSERT_OK(store_->list_keys_stream(uri("k/"), recursive, [&](ListEntry&& e) {
      keys.push_back(std::move(e));
      return ok_status();
    }));
    ASSERT_EQ(keys.size(), with.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      EXPECT_EQ(keys[i].uri, with[i].uri);
      EXPECT_EQ(keys[i].is_dir, with[i].is_dir);
      EXPECT_TRUE(with[i].size_known);
      // Left out or right: never a wrong size.
      if (keys[i].size_known) {
        EXPECT_EQ(keys[i].size, with[i].size) << keys[i].uri;
      } else {
        EXPECT_EQ(keys[i].size, 0u) << keys[i].uri;
      }
    }
  }
}

// Every store of omnio's asks for the caller's buffer before it takes budget-charged memory of its
// own: always for an object larger than a network store's first range (kBufferSourceProbeSize),
// which is read in memory the budget does not charge; a smaller one may come back in that range's
// memory without asking. The DataLoader depends on it: it hands out budget in claim order.
TEST_P(ObjectStoreConformance, GetWithBufferReadsIntoTheCallersBufferOrItsOwn) {
  for (const std::size_t size : {std::size_t{300001}, kBufferSourceProbeSize + (1 << 20) + 7}) {
    SCOPED_TRACE(size);
    const bool must_ask = size > kBufferSourceProbeSize;
    const Bytes data = pattern_bytes(size, 9);
    ASSERT_OK(store_->put(uri("wb"), data));
    // The caller's buffer, big enough: the bytes come back equal (in it, when the store uses it).
    int calls = 0;
    std::uint64_t asked = 0;
    const std::byte* lent = nullptr;
    auto got = store_->get_with_buffer(uri("wb"), [&](std::uint64_t n) {
      ++calls;
      asked = n;
      auto b = AlignedBuffer::allocate(static_cast<std::size_t>(n) + 4096, 4096);
      if (!b.ok()) return Result<std::shared_ptr<AlignedBuffer>>(b.error());
      auto shared = std::make_shared<AlignedBuffer>(std::move(*b));
      lent = shared->data();
      return Result<std::shared_ptr<AlignedBuffer>>(std::move(shared));
    });
    ASSERT_OK(got);
    EXPECT_EQ(got->as_string_view(), data.as_string_view());
    EXPECT_LE(calls, 1);
    if (must_ask) {
      EXPECT_EQ(calls, 1);
    }
    if (calls == 1) {
      EXPECT_EQ(asked, data.size());
      EXPECT_EQ(got->data(), lent);  // no copy: the bytes are the lent buffer's
    }
    // null, too small: the store allocates; the bytes are still equal.
    for (std::size_t cap : {std::size_t{0}, std::size_t{1000}}) {
      auto own = store_->get_with_buffer(uri("wb"), [&](std::uint64_t) {
        if (cap == 0) {
          return Result<std::shared_ptr<AlignedBuffer>>(std::shared_ptr<AlignedBuffer>());
        }
        auto b = AlignedBuffer::allocate(cap, 4096);
        if (!b.ok()) return Result<std::shared_ptr<AlignedBuffer>>(b.error());
        return Result<std::shared_ptr<AlignedBuffer>>(
            std::make_shared<AlignedBuffer>(std::move(*b)));
      });
      ASSERT_OK(own);
      EXPECT_EQ(own->as_string_view(), data.as_string_view()) << "capacity " << cap;
    }
    // The source's error is the read's error, when the store asks it.
    calls = 0;
    auto failed = store_->get_with_buffer(uri("wb"), [&](std::uint64_t) {
      ++calls;
      return Result<std::shared_ptr<AlignedBuffer>>(
          Error(ErrorCode::kResourceExhausted, "no memory for you"));
    });
    if (must_ask) {
      EXPECT_EQ(calls, 1);
    }
    if (calls == 0) {
      ASSERT_OK(failed);
      EXPECT_EQ(failed->as_string_view(), data.as_string_view());
    } else {
      ASSERT_FALSE(failed.ok());
      EXPECT_EQ(failed.error().code(), ErrorCode::kResourceExhausted);
    }
  }
  // A missing object: kNotFound, and no buffer asked for.
  int calls = 0;
  auto missing = store_->get_with_buffer(uri("nope"), [&](std::uint64_t) {
    ++calls;
    return Result<std::shared_ptr<AlignedBuffer>>(std::shared_ptr<AlignedBuffer>());
  });
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(calls, 0);
}

// get_batch: every object read whole and equal, whatever the size hint says; each failure its
// own (a missing object among present ones); a cancelled batch reads nothing. On file:// this is
// the io_uring path (and its fallbacks), elsewhere the default of one get_with_buffer per object.
TEST_P(ObjectStoreConformance, GetBatchReadsEveryObjectWhateverTheHintAndKeepsFailuresApart) {
  const Bytes small = pattern_bytes(1000, 1);
  const Bytes large = pattern_bytes(300001, 2);
  const Bytes empty;
  ASSERT_OK(store_->put(uri("bt/small"), small));
  ASSERT_OK(store_->put(uri("bt/large"), large));
  ASSERT_OK(store_->put(uri("bt/empty"), empty));
  std::mutex mu;
  std::vector<std::uint64_t> asked;
  const BufferSource lend = [&](std::uint64_t n) {
    {
      std::lock_guard g(mu);
      asked.push_back(n);
    }
    auto b = AlignedBuffer::allocate(static_cast<std::size_t>(std::max<std::uint64_t>(n, 1)), 4096);
    if (!b.ok()) return Result<std::shared_ptr<AlignedBuffer>>(b.error());
    return Result<std::shared_ptr<AlignedBuffer>>(std::make_shared<AlignedBuffer>(std::move(*b)));
  };
  struct Case {
    const char* key;
    std::uint64_t hint;
    const Bytes* want;  // null: kNotFound
  };
  const Case cases[] = {
      {"bt/small", 1000, &small},   // the hint is the size
      {"bt/nope", 1000, nullptr},   // missing, between present ones
      {"bt/large", 1000, &large},   // larger than the hint
      {"bt/small", 65536, &small},  // smaller than the hint
      {"bt/empty", 4096, &empty},   // empty
      {"bt/large", 0, &large},      // no hint
  };
  std::vector<BatchRead> reads(std::size(cases));
  for (std::size_t i = 0; i < reads.size(); ++i) {
    reads[i].uri = uri(cases[i].key);
    reads[i].size_hint = cases[i].hint;
    reads[i].buffer_for = lend;
  }
  store_->get_batch(reads);
  for (std::size_t i = 0; i < reads.size(); ++i) {
    SCOPED_TRACE(reads[i].uri);
    if (cases[i].want == nullptr) {
      ASSERT_FALSE(reads[i].result.ok());
      EXPECT_EQ(reads[i].result.error().code(), ErrorCode::kNotFound)
          << reads[i].result.error().to_string();
      continue;
    }
    ASSERT_OK(reads[i].result);
    EXPECT_EQ(reads[i].result->as_string_view(), cases[i].want->as_string_view());
  }
  // A source's error is that object's error only (the store may not ask: then it reads).
  std::vector<BatchRead> failing(2);
  failing[0].uri = uri("bt/large");
  failing[0].size_hint = 300001;
  failing[0].buffer_for = [](std::uint64_t) {
    return Result<std::shared_ptr<AlignedBuffer>>(Error(ErrorCode::kResourceExhausted, "no"));
  };
  failing[1].uri = uri("bt/small");
  failing[1].size_hint = 1000;
  failing[1].buffer_for = lend;
  store_->get_batch(failing);
  if (!failing[0].result.ok()) {
    EXPECT_EQ(failing[0].result.error().code(), ErrorCode::kResourceExhausted);
  } else {
    EXPECT_EQ(failing[0].result->as_string_view(), large.as_string_view());
  }
  ASSERT_OK(failing[1].result);
  EXPECT_EQ(failing[1].result->as_string_view(), small.as_string_view());
  // Cancelled before it starts: nothing read, every object kCancelled.
  ReadOptions ro;
  CancellationToken token;
  token.cancel();
  ro.cancel = token;
  std::vector<BatchRead> none(2);
  for (auto& r : none) {
    r.uri = uri("bt/small");
    r.size_hint = 1000;
    r.buffer_for = lend;
  }
  store_->get_batch(none, ro);
  for (auto& r : none) {
    ASSERT_FALSE(r.result.ok());
    EXPECT_EQ(r.result.error().code(), ErrorCode::kCancelled);
  }
}

TEST_P(ObjectStoreConformance, DeleteAndDeletePrefix) {
  for (auto n : {"d/1", "d/2", "d/x/3", "dd", "keep"})
    ASSERT_OK(store_->put(uri(n), pattern_bytes(5)));
  ASSERT_OK(store_->delete_object(uri("keep")));
  EXPECT_FALSE(*store_->exists(uri("keep")));
  auto again = store_->delete_object(uri("keep"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kNotFound);
  auto n = store_->delete_prefix(uri("d/"));
  ASSERT_OK(n);
  EXPECT_EQ(*n, 3u);
  auto rest = store_->list(prefix_, true);
  ASSERT_OK(rest);
  EXPECT_EQ(*rest, (std::vector<std::string>{uri("dd")}));
}

TEST_P(ObjectStoreConformance, CopyAndRename) {
  Bytes data = pattern_bytes(100000);
  ASSERT_OK(store_->put(uri("src"), data));
  ASSERT_OK(store_->copy(uri("src"), uri("copies/dst")));
  EXPECT_EQ(*store_->get(uri("copies/dst")), data);
  ASSERT_OK(store_->rename(uri("src"), uri("moved/there")));
  EXPECT_FALSE(*store_->exists(uri("src")));
  EXPECT_EQ(*store_->get(uri("moved/there")), data);
  EXPECT_EQ(store_->rename(uri("src"), uri("x")).error().code(), ErrorCode::kNotFound);
}

TEST_P(ObjectStoreConformance, WriterPlain) {
  Bytes data = pattern_bytes(3 * 1000 * 1000 + 17);
  auto w = store_->create_writer(uri("w/plain"));
  ASSERT_OK(w);
  for (std::size_t off = 0; off < data.size(); off += 65537) {
    ASSERT_OK((*w)->write(data.slice(off, 65537)));
  }
  EXPECT_FALSE(*store_->exists(uri("w/plain")));  // invisible until finalize
  ASSERT_OK((*w)->finalize());
  EXPECT_EQ((*w)->bytes_written(), data.size());
  EXPECT_EQ((*w)->crc32c(), crc32c(data.span()));
  EXPECT_EQ(*store_->get(uri("w/plain")), data);
  auto listed = store_->list(uri("w/"), true);
  EXPECT_EQ(*listed, std::vector<std::string>{uri("w/plain")});  // no temp files left behind
}

TEST_P(ObjectStoreConformance, WriterZstd) {
  std::string text;
  for (int i = 0; i < 100000; ++i)
    text += "omnio conformance line " + std::to_string(i % 97) + "\n";
  Bytes data = Bytes::copy_of(text);
  WriterOptions o;
  o.zstd_level = 3;
  auto w = store_->create_writer(uri("w/log.tsv"), o);
  ASSERT_OK(w);
  EXPECT_EQ((*w)->uri(), uri("w/log.tsv.zst"));
  ASSERT_OK((*w)->write(data));
  ASSERT_OK((*w)->finalize());
  EXPECT_EQ((*w)->crc32c(), crc32c(data.span()));
  auto stored = store_->get(uri("w/log.tsv.zst"));
  ASSERT_OK(stored);
  EXPECT_EQ(stored->size(), (*w)->stored_bytes());
  std::vector<std::byte> back(data.size());
  std::size_t n = ZSTD_decompress(back.data(), back.size(), stored->data(), stored->size());
  ASSERT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  EXPECT_EQ(Bytes::copy_of(std::span(back).first(n)), data);
}

TEST_P(ObjectStoreConformance, WriterCancelAndDropLeaveNothing) {
  {
    auto w = store_->create_writer(uri("w/cancelled"));
    ASSERT_OK(w);
    ASSERT_OK((*w)->write(pattern_bytes(100000)));
    ASSERT_OK((*w)->cancel());
  }
  {
    auto w = store_->create_writer(uri("w/dropped"));
    ASSERT_OK(w);
    ASSERT_OK((*w)->write(pattern_bytes(100000)));
  }
  auto l = store_->list(prefix_, true);
  ASSERT_OK(l);
  EXPECT_TRUE(l->empty()) << (l->empty() ? "" : l->front());
}

TEST_P(ObjectStoreConformance, OddKeysRoundTrip) {
  for (std::string k : {"with space/a b.bin", "unicode/日本語-ünï.bin", "plus+and%25percent",
                        "dots.and-dashes_under"}) {
    Bytes data = pattern_bytes(k.size() * 10);
    ASSERT_OK(store_->put(uri(k), data));
    EXPECT_EQ(*store_->get(uri(k)), data) << k;
  }
  auto l = store_->list(uri("unicode/"), true);
  ASSERT_OK(l);
  EXPECT_EQ(*l, std::vector<std::string>{uri("unicode/日本語-ünï.bin")});
}

TEST_P(ObjectStoreConformance, ReadersNeverSeeATornObject) {
  const Bytes a = pattern_bytes(1 << 20, 1), b = pattern_bytes(1 << 20, 2);
  ASSERT_OK(store_->put(uri("atomic"), a));
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, reads{0}, failed{0};
  std::jthread reader([&] {
    while (!stop) {
      auto got = store_->get(uri("atomic"));
      if (got.ok()) {
        ++reads;
        if (!(*got == a) && !(*got == b)) ++torn;
      } else {
        // Allowed: a multi-range read of an object replaced underneath it fails (never mixes).
        ++failed;
      }
    }
  });
  for (int i = 0; i < 30; ++i) ASSERT_OK(store_->put(uri("atomic"), i % 2 ? a : b));
  stop = true;
  reader.join();
  EXPECT_EQ(torn, 0);
  EXPECT_GT(reads + failed, 0);
  // Once writes stop, a read returns exactly the last version.
  EXPECT_EQ(*store_->get(uri("atomic")), a);
}

TEST_P(ObjectStoreConformance, MalformedUriIsInvalidArgument) {
  auto r = store_->get(prefix_.substr(0, prefix_.find("://")) + ":/broken");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

// get_positional: bytes may arrive in any order and from several threads; together they must be
// exactly the object, and the returned size its size.
TEST_P(ObjectStoreConformance, GetPositionalPlacesEveryByte) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{4096},
                        std::size_t{(1 << 20) + 7}, std::size_t{5 * 1000 * 1000 + 3}}) {
    Bytes data = pattern_bytes(n, n + 5);
    const std::string u = uri("pos-" + std::to_string(n));
    ASSERT_OK(store_->put(u, data));
    std::mutex mu;
    std::vector<std::byte> out(n);
    std::vector<bool> seen(n);
    bool outside = false;
    auto size = store_->get_positional(
        u, [&](std::uint64_t off, std::span<const std::byte> piece) -> Status {
          std::lock_guard g(mu);
          if (off + piece.size() > n) {
            outside = true;
            return Error(ErrorCode::kInternal, "piece beyond the object");
          }
          std::copy(piece.begin(), piece.end(), out.begin() + static_cast<std::ptrdiff_t>(off));
          std::fill(seen.begin() + static_cast<std::ptrdiff_t>(off),
                    seen.begin() + static_cast<std::ptrdiff_t>(off + piece.size()), true);
          return ok_status();
        });
    ASSERT_OK(size);
    EXPECT_EQ(*size, n);
    EXPECT_FALSE(outside);
    EXPECT_EQ(std::count(seen.begin(), seen.end(), false), 0) << "size " << n;
    EXPECT_TRUE(std::equal(out.begin(), out.end(), data.data())) << "size " << n;
  }
  auto missing = store_->get_positional(
      uri("no-such-object"), [](std::uint64_t, std::span<const std::byte>) { return ok_status(); });
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound) << missing.error().to_string();
}

// A writer that refuses a piece (a full disk, say) fails the read with its error.
TEST_P(ObjectStoreConformance, GetPositionalWriterErrorFailsTheRead) {
  ASSERT_OK(store_->put(uri("pos-err"), pattern_bytes(3 * 1000 * 1000, 9)));
  auto r = store_->get_positional(uri("pos-err"), [](std::uint64_t, std::span<const std::byte>) {
    return Error(ErrorCode::kResourceExhausted, "no space left (test)");
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted) << r.error().to_string();
}

TEST_P(ObjectStoreConformance, PutMultipartAnyPartSize) {
  Bytes data = pattern_bytes(5 * 1000 * 1000 + 3);
  ASSERT_OK(store_->put_multipart(uri("mp"), data, 1000 * 1000 + 1));
  EXPECT_EQ(*store_->get(uri("mp")), data);
}

}  // namespace
}  // namespace omnio::conformance
