// The op-log store decorator: exactly one line per operation, consistent columns, measured
// first_byte, errors logged, and store_for_uri applying it from Config.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "local_test_util.h"
#include "omnio/logged_store.h"
#include "omnio/op_log_reader.h"
#include "omnio/store_factory.h"
#include "op_log_test_util.h"

namespace omnio {
namespace {

struct Logged {
  testutil::TempDir dir;
  std::string log_path = dir.file("ops.tsv.zst");
  std::shared_ptr<OpLog> log;
  std::shared_ptr<ObjectStore> store;
  std::string base = "file://" + dir.path() + "/data";

  Logged() {
    OpLogOptions o;
    o.path = log_path;
    o.lossless = true;
    log = *OpLog::open(o);
    Config c;
    c.op_log = log;
    store = *store_for_uri(base + "/", c);
  }
  std::vector<OpLogEntry> entries() {
    EXPECT_TRUE(log->close().ok());
    std::vector<OpLogEntry> out;
    auto r = OpLogReader::open(log_path);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    for (;;) {
      auto e = r->next();
      EXPECT_TRUE(e.ok()) << e.error().to_string();
      if (!e.ok() || !*e) break;
      out.push_back(std::move(**e));
    }
    return out;
  }
};

Bytes bytes_of(std::size_t n) { return Bytes::copy_of(testutil::pattern(n)); }

TEST(LoggedStore, ExactlyOneLinePerOperation) {
  Logged t;
  const std::string a = t.base + "/dir/a.bin", b = t.base + "/dir/b.bin";
  ASSERT_TRUE(t.store->put(a, bytes_of(5000)).ok());                  // PUT
  ASSERT_TRUE(t.store->put_multipart(b, bytes_of(3000), 1024).ok());  // PUT
  ASSERT_TRUE(t.store->get(a).ok());                                  // GET
  ASSERT_TRUE(t.store->get_range(a, 100, 50).ok());                   // GET_RANGE
  std::vector<std::byte> dest(10);
  ASSERT_TRUE(t.store->get_into(a, 0, dest).ok());  // GET_RANGE
  ASSERT_TRUE(
      t.store->get_to_sink(a, [](std::uint64_t, Bytes) { return ok_status(); }).ok());  // GET
  ASSERT_TRUE(t.store->stat(a).ok());                                                   // STAT
  ASSERT_TRUE(*t.store->exists(a));                                                     // STAT
  ASSERT_TRUE(t.store->list(t.base + "/dir/", true).ok());                              // LIST
  {
    auto w = t.store->create_writer(t.base + "/dir/w.bin");  // PUT (once)
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->write(bytes_of(777)).ok());
    ASSERT_TRUE((*w)->finalize().ok());
    ASSERT_TRUE((*w)->finalize().ok());  // second finalize: no second line
  }
  ASSERT_TRUE(t.store->copy(a, t.base + "/dir/c.bin").ok());                        // COPY
  ASSERT_TRUE(t.store->rename(t.base + "/dir/c.bin", t.base + "/dir/d.bin").ok());  // RENAME
  ASSERT_TRUE(t.store->delete_object(b).ok());                                      // DELETE
  auto n = t.store->delete_prefix(t.base + "/dir/");                                // DELETE_PREFIX
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3u);

  auto es = t.entries();
  std::vector<std::string> ops;
  for (const auto& e : es) ops.push_back(e.op);
  EXPECT_EQ(ops, (std::vector<std::string>{"PUT", "PUT", "GET", "GET_RANGE", "GET_RANGE", "GET",
                                           "STAT", "STAT", "LIST", "PUT", "COPY", "RENAME",
                                           "DELETE", "DELETE_PREFIX"}));
  ASSERT_EQ(es.size(), 14u);
  EXPECT_EQ(es[0].bytes, 5000u);
  EXPECT_EQ(es[0].uri(), a) << "endpoint + file round-trips to the URI";
  EXPECT_EQ(es[0].endpoint, "file://");
  EXPECT_EQ(es[1].bytes, 3000u);
  EXPECT_EQ(es[2].bytes, 5000u);
  EXPECT_EQ(es[3].bytes, 50u);
  EXPECT_EQ(es[4].bytes, 10u);
  EXPECT_EQ(es[5].bytes, 5000u);
  EXPECT_EQ(es[6].bytes, 5000u);
  EXPECT_EQ(es[8].n_objects, 2u);
  EXPECT_EQ(es[9].bytes, 777u);
  EXPECT_EQ(es[9].uri(), t.base + "/dir/w.bin");
  EXPECT_EQ(es[13].n_objects, 3u);
  for (const auto& e : es) {
    EXPECT_TRUE(e.error.empty()) << e.op << " " << e.error;
    ASSERT_TRUE(e.end_ns && e.duration_ns);
    EXPECT_EQ(*e.end_ns - e.start_ns, *e.duration_ns);
  }
}

TEST(LoggedStore, GetWithBufferAndListKeysStreamLoggedOnce) {
  Logged t;
  const std::string a = t.base + "/k/a.bin";
  ASSERT_TRUE(t.store->put(a, bytes_of(70000)).ok());
  ASSERT_TRUE(t.store->put(t.base + "/k/b.bin", bytes_of(10)).ok());
  auto got = t.store->get_with_buffer(a, [](std::uint64_t size) {
    auto b = AlignedBuffer::allocate(static_cast<std::size_t>(size), 4096);
    if (!b.ok()) return Result<std::shared_ptr<AlignedBuffer>>(b.error());
    return Result<std::shared_ptr<AlignedBuffer>>(std::make_shared<AlignedBuffer>(std::move(*b)));
  });
  ASSERT_TRUE(got.ok());
  std::size_t listed = 0;
  ASSERT_TRUE(t.store
                  ->list_keys_stream(t.base + "/k/", true,
                                     [&](ListEntry&&) {
                                       ++listed;
                                       return ok_status();
                                     })
                  .ok());
  EXPECT_EQ(listed, 2u);
  auto es = t.entries();
  ASSERT_EQ(es.size(), 4u);
  EXPECT_EQ(es[2].op, "GET");
  EXPECT_EQ(es[2].bytes, 70000u);
  EXPECT_EQ(es[2].uri(), a);
  EXPECT_EQ(es[3].op, "LIST");
  EXPECT_EQ(es[3].n_objects, 2u);
}

TEST(LoggedStore, FirstByteMeasuredForStreamedReadsOnly) {
  Logged t;
  const std::string a = t.base + "/a.bin";
  ASSERT_TRUE(t.store->put(a, bytes_of(100000)).ok());
  ASSERT_TRUE(t.store->get_to_sink(a, [](std::uint64_t, Bytes) { return ok_status(); }).ok());
  ASSERT_TRUE(t.store->get(a).ok());
  auto es = t.entries();
  ASSERT_EQ(es.size(), 3u);
  EXPECT_FALSE(es[0].first_byte_ns) << "PUT: not measured, left empty";
  ASSERT_TRUE(es[1].first_byte_ns) << "get_to_sink: measured at the first chunk";
  EXPECT_GE(*es[1].first_byte_ns, es[1].start_ns);
  EXPECT_LE(*es[1].first_byte_ns, *es[1].end_ns);
  EXPECT_FALSE(es[2].first_byte_ns) << "get: payload arrives in one piece, left empty";
}

TEST(LoggedStore, FailuresAreLoggedOnceWithTheirError) {
  Logged t;
  const std::string missing = t.base + "/missing";
  EXPECT_EQ(t.store->get(missing).error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(*t.store->exists(missing));
  EXPECT_FALSE(t.store->delete_object(missing).ok());
  {
    auto w = t.store->create_writer(t.base + "/never.bin");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->write(bytes_of(10)).ok());
    // destroyed without finalize: cancelled, logged once
  }
  auto es = t.entries();
  ASSERT_EQ(es.size(), 4u);
  EXPECT_EQ(es[0].op, "GET");
  EXPECT_EQ(es[0].error.rfind("[not_found]", 0), 0u) << es[0].error;
  EXPECT_EQ(es[1].op, "STAT");
  EXPECT_FALSE(es[1].error.empty());
  EXPECT_EQ(es[2].op, "DELETE");
  EXPECT_EQ(es[3].op, "PUT");
  EXPECT_EQ(es[3].bytes, 10u);
  EXPECT_NE(es[3].error.find("cancelled"), std::string::npos);
}

TEST(LoggedStore, ConcurrentOperationsEachLoggedOnce) {
  Logged t;
  ASSERT_TRUE(t.store->put(t.base + "/x", bytes_of(64)).ok());
  constexpr int kThreads = 4, kOps = 250;
  {
    std::vector<std::jthread> th;
    for (int i = 0; i < kThreads; ++i) {
      th.emplace_back([&] {
        for (int j = 0; j < kOps; ++j) ASSERT_TRUE(t.store->get(t.base + "/x").ok());
      });
    }
  }
  auto es = t.entries();
  EXPECT_EQ(es.size(), 1u + kThreads * kOps);
  std::map<std::uint64_t, int> idx;
  for (const auto& e : es) ++idx[e.idx];
  EXPECT_EQ(idx.size(), es.size()) << "idx values are unique";
}

TEST(LoggedStore, NullLogLeavesStoreUnwrapped) {
  testutil::TempDir dir;
  auto store = *store_for_uri("file://" + dir.path() + "/");
  EXPECT_EQ(with_op_log(store, nullptr), store);
}

}  // namespace
}  // namespace omnio
