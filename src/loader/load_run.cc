// run_loader: epochs of a DataLoader whose data is dropped (the `omnio load` benchmark).
#include <fmt/format.h>

#include "omnio/loader.h"
#include "workload/workload_internal.h"

namespace omnio {

Result<LoadRunReport> run_loader(Dataset dataset, LoaderConfig config, std::size_t epochs,
                                 const CancellationToken& cancel,
                                 const std::function<void(const Batch&)>& on_batch) {
  if (epochs == 0) return Error(ErrorCode::kInvalidArgument, "load: epochs must be at least 1");
  OMNIO_ASSIGN_OR_RETURN(auto loader,
                         DataLoader::create(std::move(dataset), std::move(config), cancel));
  LoadRunReport report;
  const workload_internal::Usage start = workload_internal::usage_now();
  for (std::size_t e = 0; e < epochs; ++e) {
    OMNIO_TRY(loader->start_epoch(e));
    while (true) {
      OMNIO_ASSIGN_OR_RETURN(std::optional<Batch> b, loader->next());
      if (!b) break;
      for (const Item& it : b->items) {
        if (it.error) ++report.delivered_errors;
      }
      for (const ItemError& err : b->errors) report.skipped.push_back(err);
      if (on_batch) on_batch(*b);
    }
    ++report.epochs;
  }
  const workload_internal::Usage end = workload_internal::usage_now();
  report.metrics = loader->metrics();
  report.cpu_user_seconds = end.user_seconds - start.user_seconds;
  report.cpu_system_seconds = end.system_seconds - start.system_seconds;
  return report;
}

}  // namespace omnio
