// store_for_uri: the one way to get an ObjectStore. Backends are registered explicitly (no static
// initialisers that a static library could drop).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "omnio/config.h"
#include "omnio/object_store.h"

namespace omnio {

/// Builds a store for one scheme from the configuration.
using StoreFactory = std::function<Result<std::shared_ptr<ObjectStore>>(const Config&)>;

/// Registers (or replaces) the factory for `scheme` ("file", "s3", ...). Thread-safe.
void register_backend(std::string scheme, StoreFactory factory);

/// Schemes with a registered, built backend, sorted.
std::vector<std::string> registered_schemes();

/// A store for the URI's scheme. Unknown scheme: kInvalidArgument listing the known ones; a scheme
/// omnio knows but whose backend is not built: kUnimplemented. Does no I/O.
Result<std::shared_ptr<ObjectStore>> store_for_uri(std::string_view uri, const Config& config = {});

}  // namespace omnio
