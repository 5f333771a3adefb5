// OpLog writer: format, header, timestamps, zstd frames, drops and lossless mode, redaction.
#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <thread>

#include "local_test_util.h"
#include "omnio/op_log.h"
#include "omnio/op_log_reader.h"
#include "op_log_test_util.h"
#include "oplog/op_log_testing.h"

namespace omnio {
namespace {

using testutil::log_rows;
using testutil::read_log_text;
using testutil::split;
using Clock = std::chrono::steady_clock;

constexpr const char* kHeader =
    "idx\tthread\top\tclient_id\tn_objects\tbytes\tendpoint\tfile\terror\tstart\tfirst_byte\tend\t"
    "duration_ns";

// "2026-11-30T10:56:16.123456789Z": digits where digits belong, nine fractional ones, then Z.
// (No std::regex: GCC 12 warns inside <regex> under -O1 sanitizer builds.)
bool is_rfc3339_ns(const std::string& s) {
  const std::string shape = "dddd-dd-ddTdd:dd:dd.dddddddddZ";
  if (s.size() != shape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (shape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(s[i])) : s[i] != shape[i]) {
      return false;
    }
  }
  return true;
}

OpRecord rec(std::string op, std::string uri, std::uint64_t bytes = 0) {
  OpRecord r;
  r.op = std::move(op);
  std::tie(r.endpoint, r.file) = split_uri_for_log(uri);
  r.bytes = bytes;
  r.start = Clock::now();
  r.end = r.start + std::chrono::nanoseconds(1234567);
  return r;
}

std::shared_ptr<OpLog> open_log(const std::string& path, OpLogOptions o = {}) {
  o.path = path;
  auto log = OpLog::open(o);
  EXPECT_TRUE(log.ok()) << (log.ok() ? "" : log.error().to_string());
  return log.ok() ? *log : nullptr;
}

TEST(OpLog, TsvHeaderColumnsAndTrailer) {
  testutil::TempDir dir;
  const std::string path = dir.file("ops.tsv");
  auto log = open_log(path);
  OpRecord r = rec("GET", "file:///data/a b", 42);
  r.first_byte = r.start + std::chrono::nanoseconds(1000);
  log->record(r);
  log->record(rec("STAT", "s3://bucket/key/x", 7));
  ASSERT_TRUE(log->close().ok());
  EXPECT_EQ(log->written(), 2u);

  bool complete = false;
  const std::string text = read_log_text(path, &complete);
  auto lines = split(text, '\n');
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], kHeader);
  EXPECT_EQ(lines[3], "# omnio-op-log records=2 dropped=0");
  auto rows = log_rows(text);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& f : rows) ASSERT_EQ(f.size(), 13u);
  EXPECT_EQ(rows[0][0], "0");
  EXPECT_EQ(rows[1][0], "1");
  EXPECT_EQ(rows[0][2], "GET");
  EXPECT_EQ(rows[0][4], "1");
  EXPECT_EQ(rows[0][5], "42");
  EXPECT_EQ(rows[0][6], "file://");
  EXPECT_EQ(rows[0][7], "/data/a b");
  EXPECT_EQ(rows[0][8], "");
  EXPECT_EQ(rows[0][12], "1234567");
  EXPECT_EQ(rows[1][6], "s3://bucket");
  EXPECT_EQ(rows[1][7], "/key/x");
  EXPECT_EQ(rows[1][10], "") << "first_byte is empty when not measured";
  EXPECT_FALSE(rows[0][10].empty());
}

TEST(OpLog, NanosecondRfc3339Timestamps) {
  testutil::TempDir dir;
  const std::string path = dir.file("ops.tsv");
  auto log = open_log(path);
  OpRecord r = rec("GET", "file:///x");
  r.first_byte = r.start + std::chrono::nanoseconds(1);
  log->record(r);
  ASSERT_TRUE(log->close().ok());
  auto rows = log_rows(read_log_text(path));
  ASSERT_EQ(rows.size(), 1u);
  for (int c : {9, 10, 11}) EXPECT_TRUE(is_rfc3339_ns(rows[0][c])) << rows[0][c];
  auto start = parse_rfc3339_ns(rows[0][9]);
  auto fb = parse_rfc3339_ns(rows[0][10]);
  auto end = parse_rfc3339_ns(rows[0][11]);
  ASSERT_TRUE(start.ok() && fb.ok() && end.ok());
  EXPECT_EQ(*fb - *start, 1) << "nanosecond resolution survives formatting";
  EXPECT_EQ(*end - *start, 1234567) << "end - start == duration_ns";
  // Wall-clock anchored: within a minute of now.
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_LT(std::llabs(now - *start), 60'000'000'000LL);
}

TEST(OpLog, Rfc3339RoundTripAndErrors) {
  EXPECT_EQ(format_rfc3339_ns(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format_rfc3339_ns(1'700'000'000'123'456'789LL), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(*parse_rfc3339_ns("2023-11-14T22:13:20.123456789Z"), 1'700'000'000'123'456'789LL);
  EXPECT_EQ(*parse_rfc3339_ns("2023-11-14T22:13:20Z"), 1'700'000'000'000'000'000LL);
  EXPECT_EQ(*parse_rfc3339_ns("2023-11-14T23:13:20.5+01:00"), 1'700'000'000'500'000'000LL);
  EXPECT_FALSE(parse_rfc3339_ns("yesterday").ok());
  EXPECT_FALSE(parse_rfc3339_ns("2023-13-14T22:13:20Z").ok());
  EXPECT_FALSE(parse_rfc3339_ns("2023-11-14T22:13:20.Z").ok());
}

TEST(OpLog, ZstdFrameIsCompleteAndDecodes) {
  testutil::TempDir dir;
  const std::string path = dir.file("ops.tsv.zst");
  auto log = open_log(path);
  for (int i = 0; i < 5000; ++i) log->record(rec("PUT", "file:///d/obj_" + std::to_string(i), i));
  ASSERT_TRUE(log->close().ok());
  bool complete = false;
  const std::string text = read_log_text(path, &complete);
  EXPECT_TRUE(complete) << "one finished zstd frame";
  EXPECT_EQ(log_rows(text).size(), 5000u);
  EXPECT_EQ(split(text, '\n').front(), kHeader);
  EXPECT_NE(text.find("# omnio-op-log records=5000 dropped=0"), std::string::npos);
  EXPECT_LT(testutil::slurp(path).size(), text.size() / 3) << "compressed";
}

TEST(OpLog, FastZstdLevelsDecodeAndOutOfRangeLevelsAreRejected) {
  testutil::TempDir dir;
  for (int level : {kMinOpLogZstdLevel, -1, kMaxZstdLevel}) {
    const std::string path = dir.file("ops" + std::to_string(level) + ".zst");
    OpLogOptions o;
    o.zstd_level = level;
    auto log = open_log(path, o);
    ASSERT_NE(log, nullptr) << level;
    for (int i = 0; i < 2000; ++i) log->record(rec("GET", "file:///d/obj_" + std::to_string(i)));
    ASSERT_TRUE(log->close().ok());
    bool complete = false;
    const std::string text = read_log_text(path, &complete);
    EXPECT_TRUE(complete) << level;
    EXPECT_EQ(log_rows(text).size(), 2000u) << level;
  }
  for (int level : {kMinOpLogZstdLevel - 1, -100, kMaxZstdLevel + 1}) {
    OpLogOptions o;
    o.path = dir.file("bad.zst");
    o.zstd_level = level;
    auto log = OpLog::open(o);
    ASSERT_FALSE(log.ok()) << level;
    EXPECT_EQ(log.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(log.error().to_string().find("zstd_level"), std::string::npos);
  }
}

TEST(OpLog, DestructorFinishesTheFrame) {
  testutil::TempDir dir;
  const std::string path = dir.file("ops.zst");
  {
    auto log = open_log(path);
    log->record(rec("GET", "file:///x", 1));
  }
  bool complete = false;
  EXPECT_EQ(log_rows(read_log_text(path, &complete)).size(), 1u);
  EXPECT_TRUE(complete);
}

TEST(OpLog, EmptyLogHasHeaderAndTrailer) {
  testutil::TempDir dir;
  const std::string path = dir.file("empty.zst");
  auto log = open_log(path);
  ASSERT_TRUE(log->close().ok());
  bool complete = false;
  EXPECT_EQ(read_log_text(path, &complete),
            std::string(kHeader) + "\n# omnio-op-log records=0 dropped=0\n");
  EXPECT_TRUE(complete);
}

TEST(OpLog, FullQueueDropsAreCountedAndReported) {
  testutil::TempDir dir;
  const std::string path = dir.file("ops.tsv");
  OpLogOptions o;
  o.queue_capacity = 4;
  o.block_timeout = std::chrono::milliseconds(1);
  auto log = open_log(path, o);
  OpLogTestAccess::set_writer_paused(*log, true);
  for (int i = 0; i < 10; ++i) log->record(rec("GET", "file:///x/" + std::to_string(i)));
  EXPECT_EQ(OpLogTestAccess::queued(*log), 4u);
  EXPECT_EQ(log->dropped(), 6u);
  ASSERT_TRUE(log->close().ok());
  EXPECT_EQ(log->written(), 4u);
  const std::string text = read_log_text(path);
  EXPECT_EQ(log_rows(text).size(), 4u);
  EXPECT_NE(text.find("# omnio-op-log records=4 dropped=6"), std::string::npos);
  // After close() records are dropped, not lost silently.
  log->record(rec("GET", "file:///late"));
  EXPECT_EQ(log->dropped(), 7u);
}

TEST(OpLog, LosslessModeWaitsAndLosesNothing) {
  testutil::TempDir dir;
  const std::string path = dir.file("ops.tsv.zst");
  OpLogOptions o;
  o.queue_capacity = 2;
  o.lossless = true;
  auto log = open_log(path, o);
  constexpr int kThreads = 4, kPerThread = 500;
  std::vector<std::jthread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        log->record(rec("PUT", "file:///t" + std::to_string(t) + "/" + std::to_string(i)));
      }
    });
  }
  producers.clear();
  ASSERT_TRUE(log->close().ok());
  EXPECT_EQ(log->dropped(), 0u);
  EXPECT_EQ(log->written(), static_cast<std::uint64_t>(kThreads * kPerThread));
  auto rows = log_rows(read_log_text(path));
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::set<std::string> threads;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i][0], std::to_string(i)) << "idx is dense and ordered";
    threads.insert(rows[i][1]);
  }
  EXPECT_EQ(threads.size(), static_cast<std::size_t>(kThreads));
}

TEST(OpLog, LosslessProducerBlocksWhileWriterIsStalled) {
  testutil::TempDir dir;
  OpLogOptions o;
  o.queue_capacity = 1;
  o.lossless = true;
  auto log = open_log(dir.file("ops.tsv"), o);
  OpLogTestAccess::set_writer_paused(*log, true);
  log->record(rec("GET", "file:///a"));
  std::atomic<bool> second_done{false};
  std::jthread producer([&] {
    log->record(rec("GET", "file:///b"));
    second_done = true;
  });
  // The queue is full and the writer paused: the producer must still be waiting.
  for (int i = 0; i < 20 && OpLogTestAccess::queued(*log) == 1 && !second_done; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_FALSE(second_done);
  OpLogTestAccess::set_writer_paused(*log, false);
  producer.join();
  EXPECT_TRUE(second_done);
  ASSERT_TRUE(log->close().ok());
  EXPECT_EQ(log->written(), 2u);
  EXPECT_EQ(log->dropped(), 0u);
}

TEST(OpLog, EscapesSeparatorsAndReaderRestoresThem) {
  testutil::TempDir dir;
  const std::string path = dir.file("ops.tsv");
  OpLogOptions o;
  o.client_id = "job\t7";
  auto log = open_log(path, o);
  OpRecord r = rec("GET", "file:///d/tab\there/new\nline\\x");
  r.error = "[not_found] multi\nline";
  log->record(r);
  ASSERT_TRUE(log->close().ok());
  auto rows = log_rows(read_log_text(path));
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].size(), 13u);
  EXPECT_EQ(rows[0][3], "job\\t7");
  auto reader = OpLogReader::open(path);
  ASSERT_TRUE(reader.ok());
  auto e = reader->next();
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((*e)->uri(), "file:///d/tab\there/new\nline\\x");
  EXPECT_EQ((*e)->error, "[not_found] multi\nline");
}

TEST(OpLog, NoCredentialsInEndpointFileOrError) {
  auto [ep, file] =
      split_uri_for_log("s3://AKIAEXAMPLE:s3cr3t@bucket/key?X-Amz-Signature=abc&sig=def");
  EXPECT_EQ(ep, "s3://bucket");
  EXPECT_EQ(file, "/key");
  std::tie(ep, file) = split_uri_for_log("https://acct.blob.core.windows.net/c/k?sv=1&sig=SECRET");
  EXPECT_EQ(ep, "https://acct.blob.core.windows.net");
  EXPECT_EQ(file, "/c/k");
  std::tie(ep, file) = split_uri_for_log("file:///data/user@host/x");
  EXPECT_EQ(ep, "file://");
  EXPECT_EQ(file, "/data/user@host/x") << "an '@' in a path is not userinfo";
  EXPECT_EQ(redact_userinfo("connect http://key:secret@127.0.0.1:9000/b failed"),
            "connect http://127.0.0.1:9000/b failed");
  EXPECT_EQ(redact_userinfo("no url here"), "no url here");
  // The copy-free split agrees with split_uri_for_log(), and refuses URIs with userinfo.
  std::string_view vep, vfile;
  for (std::string_view u : {"s3://bucket/key?X-Amz-Signature=abc", "file:///data/user@host/x",
                             "az://acct", "relative/path", "gs://b/a//b"}) {
    ASSERT_TRUE(split_uri_for_log_view(u, &vep, &vfile)) << u;
    EXPECT_EQ(std::pair(std::string(vep), std::string(vfile)), split_uri_for_log(u)) << u;
  }
  EXPECT_FALSE(split_uri_for_log_view("s3://AKIA:secret@bucket/key", &vep, &vfile));
}

TEST(OpLog, InvalidOptions) {
  OpLogOptions o;
  EXPECT_EQ(OpLog::open(o).error().code(), ErrorCode::kInvalidArgument);
  o.path = "/nonexistent-dir/x.tsv";
  EXPECT_EQ(OpLog::open(o).error().code(), ErrorCode::kNotFound);
  o.queue_capacity = 0;
  EXPECT_EQ(OpLog::open(o).error().code(), ErrorCode::kInvalidArgument);
  o.queue_capacity = 1;
  o.zstd_level = 99;
  EXPECT_EQ(OpLog::open(o).error().code(), ErrorCode::kInvalidArgument);
}

TEST(OpLog, ReaderRejectsTruncatedZstd) {
  testutil::TempDir dir;
  const std::string path = dir.file("ops.zst");
  auto log = open_log(path);
  for (int i = 0; i < 100; ++i) log->record(rec("GET", "file:///x"));
  ASSERT_TRUE(log->close().ok());
  std::string raw = testutil::slurp(path);
  raw.resize(raw.size() - 6);
  const std::string cut = dir.file("cut.zst");
  std::ofstream(cut, std::ios::binary) << raw;
  auto reader = OpLogReader::open(cut);
  ASSERT_TRUE(reader.ok());
  Status st = ok_status();
  for (;;) {
    auto e = reader->next();
    if (!e.ok()) {
      st = e.error();
      break;
    }
    if (!*e) break;
  }
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
}

// JSON Lines logs (s3dlio's other format) read through the same reader: aliases, numbers as
// numbers or strings, JSON escapes, '#' lines skipped, zstd detected from the content.
TEST(OpLog, ReaderReadsJsonLines) {
  testutil::TempDir dir;
  const std::string text =
      "{\"idx\":0,\"op\":\"get\",\"n_objects\":1,\"bytes\":4096,\"endpoint\":\"s3://b\","
      "\"file\":\"/k\\ttab\",\"error\":\"\",\"start\":\"2026-11-30T10:56:16.000000001Z\","
      "\"first_byte\":\"2026-11-30T10:56:16.000000500Z\",\"end\":\"2026-11-30T10:56:16."
      "000001001Z\","
      "\"duration_ns\":1000}\n"
      "\n# a comment\n"
      "{\"operation\":\"PUT\",\"bytes\":\"7\",\"endpoint\":\"file://\",\"file\":\"/x\","
      "\"t_start\":\"2026-11-30T10:56:17Z\",\"error\":\"[internal] boom\"}\r\n";
  const std::string plain = dir.file("ops.jsonl");
  std::ofstream(plain, std::ios::binary) << text;
  std::string z(ZSTD_compressBound(text.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), text.data(), text.size(), 3));
  const std::string zst = dir.file("ops.jsonl.zst");
  std::ofstream(zst, std::ios::binary) << z;
  for (const std::string& path : {plain, zst}) {
    auto reader = OpLogReader::open(path);
    ASSERT_TRUE(reader.ok()) << reader.error().to_string();
    auto a = reader->next();
    ASSERT_TRUE(a.ok() && a->has_value()) << (a.ok() ? "end" : a.error().to_string());
    EXPECT_EQ((*a)->op, "GET");
    EXPECT_EQ((*a)->bytes, 4096u);
    EXPECT_EQ((*a)->uri(), "s3://b/k\ttab");
    EXPECT_EQ((*a)->end_ns.value() - (*a)->start_ns, 1000);
    EXPECT_EQ((*a)->first_byte_ns.value() - (*a)->start_ns, 499);
    EXPECT_EQ((*a)->duration_ns.value(), 1000);
    auto b = reader->next();
    ASSERT_TRUE(b.ok() && b->has_value()) << (b.ok() ? "end" : b.error().to_string());
    EXPECT_EQ((*b)->op, "PUT");
    EXPECT_EQ((*b)->bytes, 7u);
    EXPECT_EQ((*b)->uri(), "file:///x");
    EXPECT_EQ((*b)->error, "[internal] boom");
    EXPECT_EQ((*b)->start_ns - (*a)->start_ns, 999999999);
    EXPECT_FALSE((*b)->end_ns.has_value());
    auto end = reader->next();
    ASSERT_TRUE(end.ok());
    EXPECT_FALSE(end->has_value());
  }
}

TEST(OpLog, ReaderNamesTheBadJsonLine) {
  testutil::TempDir dir;
  const std::string ok_line =
      "{\"op\":\"GET\",\"endpoint\":\"file://\",\"file\":\"/"
      "a\",\"start\":\"2026-11-30T10:56:16Z\"}\n";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{\"op\":\"GET\",\"endpoint\":\"file://\"", "not a JSON object"},
      {"{\"op\":\"GET\",\"endpoint\":\"file://\",\"file\":\"/a\"}", "no start time"},
      {"{\"op\":\"GET\",\"endpoint\":\"file://\",\"file\":\"/a\",\"bytes\":-5,"
       "\"start\":\"2026-11-30T10:56:16Z\"}",
       "bytes"},
      {"{\"endpoint\":\"file://\",\"file\":\"/a\",\"start\":\"2026-11-30T10:56:16Z\"}", "no op"},
      {"{\"op\":\"GET\",\"endpoint\":\"file://\",\"file\":\"/a\",\"start\":\"yesterday\"}",
       "bad RFC 3339"},
  };
  for (const auto& [line, why] : bad) {
    const std::string path = dir.file("bad.jsonl");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << ok_line << ok_line << line << "\n";
    auto reader = OpLogReader::open(path);
    ASSERT_TRUE(reader.ok());
    ASSERT_TRUE(reader->next().ok());
    ASSERT_TRUE(reader->next().ok());
    auto e = reader->next();
    ASSERT_FALSE(e.ok()) << line;
    EXPECT_EQ(e.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(e.error().message().find("line 3"), std::string::npos) << e.error().message();
    EXPECT_NE(e.error().message().find(why), std::string::npos) << e.error().message();
  }
}

}  // namespace
}  // namespace omnio
