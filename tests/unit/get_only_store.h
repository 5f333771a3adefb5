// A test ObjectStore base for stores that serve reads only (the DataLoader's tests): every other
// operation is kUnimplemented.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "omnio/object_store.h"

namespace omnio::testutil {

// The operations the loader never calls: unimplemented in the test stores below.
class GetOnlyStore : public ObjectStore {
 public:
  std::string_view scheme() const override { return "mem"; }
  Result<Bytes> get_range(std::string_view, std::uint64_t, std::optional<std::uint64_t>,
                          const ReadOptions&) override {
    return unimpl();
  }
  Result<std::uint64_t> get_into(std::string_view, std::uint64_t, std::span<std::byte>,
                                 const ReadOptions&) override {
    return unimpl();
  }
  Status put(std::string_view, const Bytes&, const PutOptions&) override { return unimpl(); }
  Result<std::unique_ptr<ObjectWriter>> create_writer(std::string_view,
                                                      const WriterOptions&) override {
    return unimpl();
  }
  Result<std::vector<ListEntry>> list_entries(std::string_view, bool) override { return unimpl(); }
  Result<ObjectMetadata> stat(std::string_view) override { return unimpl(); }
  Status delete_object(std::string_view) override { return unimpl(); }
  Status create_container(std::string_view) override { return unimpl(); }
  Status delete_container(std::string_view) override { return unimpl(); }

 protected:
  static Error unimpl() { return Error(ErrorCode::kUnimplemented, "test store"); }
};

}  // namespace omnio::testutil
