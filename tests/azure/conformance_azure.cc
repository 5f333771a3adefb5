// The conformance suite, unchanged, on az:// against Azurite (which verifies SharedKey): as
// configured by default, and with small ranges and blocks so the RangeEngine, If-Match and staged
// upload paths run on small objects.
#include <unistd.h>

#include <atomic>

#include "azure/azure_test_env.h"
#include "conformance/object_store_suite.h"
#include "omnio/store_factory.h"

namespace omnio::conformance {
namespace {

constexpr const char* kContainer = "az://devstoreaccount1/omnio-conformance";

ConformanceBackend azure_backend(bool small_chunks) {
  const auto srv = testing::azure_test_server();
  ConformanceBackend b;
  b.name = small_chunks ? "azurite_engine" : "azurite";
  b.skip_reason = srv.skip_reason;
  b.config = srv.config();
  if (small_chunks) {
    b.config.azure.range_engine.chunk_size = 64 * 1024;
    b.config.azure.range_engine.min_split_size = 1;
    b.config.azure.range_engine.max_concurrent_ranges = 4;
    b.config.azure.block_size = 256 * 1024;
    b.config.azure.single_put_threshold = 256 * 1024;
    b.config.azure.max_blocks_in_flight = 3;
  }
  if (!srv.skip_reason.empty()) return b;
  Config cfg = b.config;
  std::string name = b.name;
  b.make_prefix = [cfg, name] {
    static std::atomic<int> n{0};
    auto store = store_for_uri(kContainer, cfg);
    if (store.ok()) (void)(*store)->create_container(kContainer);
    return std::string(kContainer) + "/" + name + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(n++) + "/";
  };
  b.cleanup = [cfg](const std::string& prefix) {
    auto store = store_for_uri(prefix, cfg);
    if (store.ok()) (void)(*store)->delete_prefix(prefix);
  };
  return b;
}

INSTANTIATE_TEST_SUITE_P(Azure, ObjectStoreConformance,
                         ::testing::Values(azure_backend(false), azure_backend(true)),
                         backend_name);

}  // namespace
}  // namespace omnio::conformance
