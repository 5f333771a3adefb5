// PartSink (the RawSink of the S3 and Azure writers) against recorded Ops: which requests a stream
// of a given length becomes (unit test of our own logic).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/part_sink.h"

namespace omnio {
namespace {

struct Recorder {
  std::vector<std::string> calls;  // "start", "part N size", "complete total parts", "single size"
  PartSink::Ops ops(std::size_t part) {
    PartSink::Ops o;
    o.part_size = [part](std::size_t) { return part; };
    o.start = [this] {
      calls.push_back("start");
      return ok_status();
    };
    o.send_part = [this](int n, std::span<const std::byte> body, std::shared_ptr<const void>) {
      calls.push_back("part " + std::to_string(n) + " " + std::to_string(body.size()));
      return ok_status();
    };
    o.complete = [this](std::uint64_t total, int parts) {
      calls.push_back("complete " + std::to_string(total) + " " + std::to_string(parts));
      return ok_status();
    };
    o.single_put = [this](const Bytes& b) {
      calls.push_back("single " + std::to_string(b.size()));
      return ok_status();
    };
    o.abort = [this] {
      calls.push_back("abort");
      return ok_status();
    };
    o.parts_in_flight = 2;
    return o;
  }
};

// Writes n bytes in pieces of `piece` and commits; returns the requests made.
std::vector<std::string> stream(std::size_t part, std::size_t n, std::size_t piece) {
  Recorder r;
  PartSink sink(r.ops(part));
  std::vector<std::byte> data(n, std::byte{7});
  for (std::size_t off = 0; off < n; off += piece) {
    EXPECT_TRUE(sink.append(std::span(data).subspan(off, std::min(piece, n - off))).ok());
  }
  EXPECT_TRUE(sink.commit().ok());
  return r.calls;
}

using V = std::vector<std::string>;

TEST(PartSink, ShorterThanOnePartIsOneRequest) {
  EXPECT_EQ(stream(100, 0, 1), V{"single 0"});
  EXPECT_EQ(stream(100, 99, 7), V{"single 99"});
}

// Regression (found by tests/cross/cp_matrix.sh): exactly one part was a one-part multipart upload
// (three requests instead of the documented single PUT; on GCS's emulator a failed upload).
TEST(PartSink, ExactlyOnePartIsOneRequest) {
  EXPECT_EQ(stream(100, 100, 100), V{"single 100"});
  EXPECT_EQ(stream(100, 100, 7), V{"single 100"});
}

TEST(PartSink, ExactMultiplesSendFullPartsAndNoEmptyOne) {
  EXPECT_EQ(stream(100, 200, 100), (V{"start", "part 1 100", "part 2 100", "complete 200 2"}));
  EXPECT_EQ(stream(100, 300, 30),
            (V{"start", "part 1 100", "part 2 100", "part 3 100", "complete 300 3"}));
}

TEST(PartSink, OneByteMoreStartsTheUpload) {
  EXPECT_EQ(stream(100, 101, 101), (V{"start", "part 1 100", "part 2 1", "complete 101 2"}));
}

}  // namespace
}  // namespace omnio
