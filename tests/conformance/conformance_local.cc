// The conformance suite on file:// and direct:// (O_DIRECT and the RangeEngine on, as shipped, and
// with a small chunk so the engine splits even small test objects).
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "conformance/object_store_suite.h"

namespace omnio::conformance {
namespace {

// One directory per test process (ctest runs each test in its own), removed at exit when the
// tests left it empty: every test cleans up its prefix, but the directories themselves piled up
// in the build tree (480 after a few sessions). A failed test's leftovers stay for a look.
struct TestRoot {
  std::string path;
  TestRoot()
      : path(std::filesystem::current_path().string() + "/conformance-tmp-" +
             std::to_string(::getpid())) {
    std::filesystem::create_directories(path);
  }
  ~TestRoot() {
    std::error_code ec;
    std::filesystem::remove(path, ec);  // only if empty
  }
};

std::string test_root() {
  // The build tree lives on a real file system (O_DIRECT works); /tmp may too, but be explicit.
  static const TestRoot root;
  return root.path;
}

ConformanceBackend local(std::string name, std::string scheme, Config cfg) {
  ConformanceBackend b;
  b.name = std::move(name);
  b.config = std::move(cfg);
  b.make_prefix = [scheme] {
    static std::atomic<int> n{0};
    std::string dir = test_root() + "/" + std::to_string(n++) + "/";
    std::filesystem::create_directories(dir);
    return scheme + "://" + dir;
  };
  b.cleanup = [](const std::string& prefix) {
    std::error_code ec;
    std::filesystem::remove_all(prefix.substr(prefix.find("://") + 3), ec);
  };
  return b;
}

Config small_chunks() {
  Config c;
  c.file.enable_range_engine = true;
  c.file.range_engine.chunk_size = 64 * 1024;
  c.file.range_engine.min_split_size = 1;
  c.file.range_engine.max_concurrent_ranges = 4;
  c.direct.range_engine.chunk_size = 64 * 1024;
  c.direct.range_engine.min_split_size = 1;
  c.direct.range_engine.max_concurrent_ranges = 4;
  return c;
}

INSTANTIATE_TEST_SUITE_P(Local, ObjectStoreConformance,
                         ::testing::Values(local("file", "file", Config{}),
                                           local("direct", "direct", Config{}),
                                           local("file_engine", "file", small_chunks()),
                                           local("direct_engine", "direct", small_chunks())),
                         backend_name);

}  // namespace
}  // namespace omnio::conformance
