// The ObjectStore conformance suite: one set of tests every backend must pass unchanged. A backend
// instantiates it with a ConformanceBackend (see conformance_local.cc):
//   INSTANTIATE_TEST_SUITE_P(Local, ObjectStoreConformance, ::testing::Values(file_backend()...),
//                            backend_name);
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "omnio/config.h"
#include "omnio/object_store.h"

namespace omnio::conformance {

/// How to reach one backend, and what it can do.
struct ConformanceBackend {
  std::string name;
  /// A fresh, empty prefix URI ending in '/' for one test ("file:///tmp/x/1/", "s3://b/run-7/").
  std::function<std::string()> make_prefix;
  /// Removes what make_prefix created (best effort).
  std::function<void(const std::string& prefix)> cleanup;
  Config config;
  /// The store lists "directories" only where objects exist below them (true everywhere today).
  bool list_dirs = true;
  /// Non-empty: the backend's server is not available; every test skips with this reason.
  std::string skip_reason;
};

class ObjectStoreConformance : public ::testing::TestWithParam<ConformanceBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;
  /// prefix_ + name
  std::string uri(const std::string& name) const { return prefix_ + name; }

  std::shared_ptr<ObjectStore> store_;
  std::string prefix_;
};

/// Prints the backend's name in test output (instead of its bytes).
inline void PrintTo(const ConformanceBackend& b, std::ostream* os) { *os << b.name; }

std::string backend_name(const ::testing::TestParamInfo<ConformanceBackend>& info);

/// n bytes of a position- and seed-dependent pattern.
Bytes pattern_bytes(std::size_t n, std::uint64_t seed = 1);

}  // namespace omnio::conformance
