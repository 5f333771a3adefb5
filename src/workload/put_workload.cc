// run_put_workload: N generated objects on up to `jobs` threads, each generated on its own from
// (seed, object index) into a reused buffer.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "core/buffer_recycler.h"
#include "omnio/aligned_buffer.h"
#include "omnio/workload.h"
#include "workload/workload_internal.h"

namespace omnio {
namespace {

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidArgument, "workload: " + std::move(message));
}

}  // namespace

Status PutWorkloadOptions::validate() const {
  if (prefix.empty()) return invalid("prefix must not be empty");
  if (jobs < 1 || jobs > kMaxCliJobs) {
    return invalid(fmt::format("jobs must be in 1..{}", kMaxCliJobs));
  }
  if (write_index && format.format != ObjectFormat::kTfRecord) {
    return invalid("write_index applies to the tfrecord format only");
  }
  DataGenOptions d;
  d.dedup_factor = dedup_factor;
  d.compress_factor = compress_factor;
  OMNIO_TRY(d.validate());
  OMNIO_TRY(expand_name_template(name_template.empty() ? kDefaultWorkloadTemplate : name_template,
                                 0, count));
  return ok_status();
}

Result<std::string> expand_name_template(std::string_view name_template, std::uint64_t index,
                                         std::uint64_t count) {
  std::string out;
  int used = 0;
  for (std::size_t i = 0; i < name_template.size(); ++i) {
    const char c = name_template[i];
    if (c == '{' && i + 1 < name_template.size() && name_template[i + 1] == '}') {
      if (used == 2) {
        return invalid(
            fmt::format("template '{}' has more than two '{{}}' (index, count)", name_template));
      }
      out += fmt::format("{}", used++ == 0 ? index : count);
      ++i;
    } else if (c == '{' || c == '}') {
      return invalid(
          fmt::format("template '{}': only '{{}}' placeholders are allowed", name_template));
    } else {
      out.push_back(c);
    }
  }
  if (out.empty()) return invalid("template must not be empty");
  return out;
}

Result<WorkloadReport> run_put_workload(ObjectStore& store, const PutWorkloadOptions& options,
                                        const CancellationToken& cancel,
                                        const WorkloadCallbacks& callbacks) {
  OMNIO_TRY(options.validate());
  const std::string tmpl = options.name_template.empty()
                               ? std::string(kDefaultWorkloadTemplate) +
                                     std::string(object_format_extension(options.format.format))
                               : options.name_template;
  DataGenOptions base;
  base.size = options.size;
  base.dedup_factor = options.dedup_factor;
  base.compress_factor = options.compress_factor;
  base.seed = options.seed ? *options.seed : random_seed();
  // Jobs are the parallelism; a fill only spreads over the cores the jobs leave idle.
  const std::size_t active = static_cast<std::size_t>(
      std::max<std::uint64_t>(1, std::min<std::uint64_t>(options.jobs, options.count)));
  base.threads = std::max<std::size_t>(1, std::thread::hardware_concurrency() / active);
  // Lays out object 0 up front so format errors (samples) fail the run, not every object.
  OMNIO_TRY(FormattedGenerator::create(options.format, base));

  WorkloadReport report;
  report.seed = *base.seed;
  std::atomic<std::uint64_t> bytes{0};
  auto add_bytes = [&](std::uint64_t n) {
    bytes.fetch_add(n, std::memory_order_relaxed);
    if (callbacks.on_bytes) callbacks.on_bytes(n);
  };
  // Generator buffers, reused across objects of one size (BufferRecycler: a returned buffer goes
  // back to the pool when its last Bytes view drops, or to a waiter for budget memory).
  auto pool = BufferRecycler::create(options.jobs, kDataGenBufferAlignment);
  auto name_of = [&](std::size_t i) {
    auto n = expand_name_template(tmpl, i, options.count);
    return options.prefix + (n.ok() ? *n : std::string("?"));
  };
  PutOptions po;
  po.cancel = cancel;

  auto put_one = [&](std::size_t i) -> Status {
    const std::string uri = name_of(i);
    DataGenOptions d = base;
    d.object_index = i;
    OMNIO_ASSIGN_OR_RETURN(auto gen, FormattedGenerator::create(options.format, d));
    if (gen.size() <= kWorkloadWholeObjectMaxSize) {
      OMNIO_ASSIGN_OR_RETURN(auto buf, pool->acquire(static_cast<std::size_t>(gen.size()), cancel));
      OMNIO_TRY(gen.fill_all(buf->span()));
      {
        Bytes body = Bytes::from_shared(buf, buf->data(), buf->size());
        OMNIO_TRY(store.put(uri, body, po));
      }
      add_bytes(gen.size());
    } else {
      WriterOptions wo;
      wo.put = po;
      OMNIO_ASSIGN_OR_RETURN(auto writer, store.create_writer(uri, wo));
      OMNIO_ASSIGN_OR_RETURN(auto buf, pool->acquire(kWorkloadStreamChunkSize, cancel));
      for (;;) {
        if (cancel.is_cancelled()) {
          (void)writer->cancel();
          return Error(ErrorCode::kCancelled, fmt::format("put {}: cancelled", uri));
        }
        OMNIO_ASSIGN_OR_RETURN(std::size_t n, gen.fill(buf->span()));
        if (n == 0) break;
        OMNIO_TRY(writer->write(buf->span().first(n)));
        add_bytes(n);
      }
      OMNIO_TRY(writer->finalize());
    }
    if (options.write_index) {
      const Bytes index = Bytes::copy_of(gen.index());
      OMNIO_TRY(store.put(uri + ".idx", index, po));
      add_bytes(index.size());
    }
    if (callbacks.on_object) callbacks.on_object();
    return ok_status();
  };

  const workload_internal::Usage start = workload_internal::usage_now();
  report.batch = run_parallel(options.count, options.jobs, cancel, name_of, put_one);
  workload_internal::finish(report, start, bytes.load());
  return report;
}

}  // namespace omnio
