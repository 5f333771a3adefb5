// The conformance suite, unchanged, on gs:// against the headless firebase Storage emulator and the
// project's fake (tests/support/gcs_fake.py): each as configured by default, and with small ranges
// (the RangeEngine and generation-pinned ranges on small objects); on the fake also with 256 KiB
// upload chunks, so every writer and put_multipart above 256 KiB is a multi-chunk resumable upload
// (the emulator finalizes resumable uploads on the first chunk, so it only runs the default).
#include <unistd.h>

#include <atomic>

#include "conformance/object_store_suite.h"
#include "gcs/gcs_test_env.h"
#include "omnio/store_factory.h"

namespace omnio::conformance {
namespace {

constexpr const char* kBucket = "omnio-conformance";

ConformanceBackend gcs_backend(const std::string& server, const testing::GcsEmulator& srv,
                               bool small_ranges, bool small_uploads) {
  ConformanceBackend b;
  b.name = server + (small_ranges ? "_engine" : "") + (small_uploads ? "_resumable" : "");
  b.skip_reason = srv.skip_reason;
  b.config = srv.config();
  if (small_ranges) {
    b.config.gcs.range_engine.chunk_size = 64 * 1024;
    b.config.gcs.range_engine.min_split_size = 1;
    b.config.gcs.range_engine.max_concurrent_ranges = 4;
  }
  if (small_uploads) {
    b.config.gcs.single_upload_threshold = 256 * 1024;
    b.config.gcs.upload_chunk_size = 256 * 1024;
  }
  if (!srv.skip_reason.empty()) return b;
  Config cfg = b.config;
  std::string name = b.name;
  b.make_prefix = [cfg, name] {
    static std::atomic<int> n{0};
    auto store = store_for_uri("gs://" + std::string(kBucket), cfg);
    // The fake needs the bucket; the emulator creates buckets on first upload (501 here).
    if (store.ok()) (void)(*store)->create_container(std::string("gs://") + kBucket);
    return "gs://" + std::string(kBucket) + "/" + name + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(n++) + "/";
  };
  b.cleanup = [cfg](const std::string& prefix) {
    auto store = store_for_uri(prefix, cfg);
    if (store.ok()) (void)(*store)->delete_prefix(prefix);
  };
  return b;
}

std::vector<ConformanceBackend> backends() {
  const auto emulator = testing::gcs_server("EMULATOR");
  const auto fake = testing::gcs_server("FAKE");
  return {gcs_backend("emulator", emulator, false, false),
          gcs_backend("emulator", emulator, true, false), gcs_backend("fake", fake, false, false),
          gcs_backend("fake", fake, true, true)};
}

INSTANTIATE_TEST_SUITE_P(Gcs, ObjectStoreConformance, ::testing::ValuesIn(backends()),
                         backend_name);

}  // namespace
}  // namespace omnio::conformance
