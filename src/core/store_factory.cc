#include "omnio/store_factory.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "backends/azure/azure_store.h"
#include "backends/file/file_store.h"
#include "backends/gcs/gcs_store.h"
#include "backends/s3/s3_store.h"
#include "omnio/logged_store.h"
#include "omnio/uri.h"

namespace omnio {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, StoreFactory> factories;
};

// Built-in backends are registered here, explicitly, on first use.
Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry;
    reg->factories["file"] = [](const Config& c) { return make_file_store(c.file, false); };
    reg->factories["direct"] = [](const Config& c) { return make_file_store(c.direct, true); };
    reg->factories["s3"] = [](const Config& c) { return make_s3_store(c.s3); };
    reg->factories["gs"] = [](const Config& c) { return make_gcs_store(c.gcs); };  // and gcs://
    reg->factories["az"] = [](const Config& c) { return make_azure_store(c.azure); };
    return reg;
  }();
  return *r;
}

}  // namespace

void register_backend(std::string scheme, StoreFactory factory) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.factories[std::move(scheme)] = std::move(factory);
}

std::vector<std::string> registered_schemes() {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> out;
  for (const auto& [k, v] : r.factories) out.push_back(k);
  return out;
}

Result<std::shared_ptr<ObjectStore>> store_for_uri(std::string_view uri, const Config& config) {
  OMNIO_ASSIGN_OR_RETURN(Scheme scheme, scheme_of(uri));
  const std::string name(scheme_name(scheme));
  StoreFactory factory;
  {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    auto it = r.factories.find(name);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    auto schemes = registered_schemes();
    std::string built;
    for (const auto& s : schemes) built += (built.empty() ? "" : ", ") + s + "://";
    return Error(ErrorCode::kUnimplemented,
                 fmt::format("the {}:// backend is not built in this version of omnio (built: {})",
                             name, built));
  }
  OMNIO_TRY(config.validate());
  OMNIO_ASSIGN_OR_RETURN(auto store, factory(config));
  return with_op_log(std::move(store), config.op_log);
}

Status Config::validate() const {
  if (Status s = file.validate(); !s.ok()) return std::move(s).error().wrap("config.file");
  if (Status s = direct.validate(); !s.ok()) return std::move(s).error().wrap("config.direct");
  if (Status s = s3.validate(); !s.ok()) return std::move(s).error().wrap("config.s3");
  if (Status s = gcs.validate(); !s.ok()) return std::move(s).error().wrap("config.gcs");
  if (Status s = azure.validate(); !s.ok()) return std::move(s).error().wrap("config.azure");
  return ok_status();
}

}  // namespace omnio
