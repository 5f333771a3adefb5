// The conformance suite, unchanged, on s3:// against real servers: Ceph radosgw and moto, each as
// shipped and with small ranges so the RangeEngine, If-Match and multipart paths run on small
// objects.
#include <unistd.h>

#include <atomic>

#include "conformance/object_store_suite.h"
#include "omnio/store_factory.h"
#include "s3/s3_test_env.h"

namespace omnio::conformance {
namespace {

constexpr const char* kBucket = "omnio-conformance";

ConformanceBackend s3_backend(const testing::S3TestServer& srv, bool small_chunks) {
  ConformanceBackend b;
  b.name = srv.name + (small_chunks ? "_engine" : "");
  b.skip_reason = srv.skip_reason;
  b.config = srv.config();
  if (small_chunks) {
    b.config.s3.range_engine.chunk_size = 64 * 1024;
    b.config.s3.range_engine.min_split_size = 1;
    b.config.s3.range_engine.max_concurrent_ranges = 4;
  }
  if (!srv.skip_reason.empty()) return b;
  Config cfg = b.config;
  std::string name = b.name;
  b.make_prefix = [cfg, name] {
    static std::atomic<int> n{0};
    auto store = store_for_uri("s3://" + std::string(kBucket), cfg);
    if (store.ok()) (void)(*store)->create_container(std::string("s3://") + kBucket);
    return "s3://" + std::string(kBucket) + "/" + name + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(n++) + "/";
  };
  b.cleanup = [cfg](const std::string& prefix) {
    auto store = store_for_uri(prefix, cfg);
    if (store.ok()) (void)(*store)->delete_prefix(prefix);
  };
  return b;
}

std::vector<ConformanceBackend> backends() {
  std::vector<ConformanceBackend> out;
  for (const auto& s : testing::s3_test_servers()) {
    out.push_back(s3_backend(s, false));
    out.push_back(s3_backend(s, true));
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(S3, ObjectStoreConformance, ::testing::ValuesIn(backends()), backend_name);

}  // namespace
}  // namespace omnio::conformance
