// Commands over many objects: cp -r and rm, with --dry-run, --keys-from, --skip-existing, the
// interrupted / partial-failure summaries and exit code 3. Logic lives in the library
// (omnio/transfer.h, omnio/key_list.h, ObjectStore::delete_*); this file parses and prints.
#include <fmt/format.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "omnio/constants.h"
#include "omnio/key_list.h"
#include "omnio/store_factory.h"
#include "omnio/transfer.h"
#include "omnio/uri.h"

namespace omnio::cli {
namespace {

std::mutex g_print_mu;  // dry-run lines come from worker threads

// Failures that are not cancellations (the "failed" count of the summaries).
std::uint64_t failed_count(const BatchReport& rep) {
  std::uint64_t n = 0;
  for (const auto& f : rep.failures) n += f.second.code() == ErrorCode::kCancelled ? 0 : 1;
  return n;
}

// Streams the objects under `prefix` (a canonical URI ending in '/'), or those of a key list that
// must lie under it, to `emit` one at a time: nothing holds the whole listing.
Status enumerate(ObjectStore& store, const std::string& prefix, const std::string& keys_from,
                 const char* cmd, const WorkEmit& emit) {
  if (keys_from.empty()) return emit_listing(store, prefix, emit, interrupt_token());
  OMNIO_ASSIGN_OR_RETURN(std::uint64_t n,
                         emit_key_list(keys_from, prefix, /*under=*/true, cmd, emit));
  (void)n;  // an empty list is the caller's "no objects under this prefix"
  return ok_status();
}

void report_cp(const Globals& g, const BatchReport& rep, std::uint64_t bytes, double seconds,
               std::uint64_t skipped, std::uint64_t not_comparable, bool dry_run) {
  const std::uint64_t copied = rep.succeeded - skipped;
  const double rate = seconds > 0 ? static_cast<double>(bytes) / seconds : 0;
  const bool interrupted = interrupt_token().is_cancelled();
  if (g.json) {
    nlohmann::json j{{"op", "cp"},
                     {"bytes", bytes},
                     {"objects", copied},
                     {"skipped", skipped},
                     {"failed", failed_count(rep)},
                     {"cancelled", rep.cancelled()},
                     {"seconds", seconds},
                     {"bytes_per_second", rate}};
    if (dry_run) j["dryrun"] = true;
    if (interrupted) j["interrupted"] = true;
    print_line(j.dump());
    return;
  }
  if (interrupted) {  // always said, even with -q: the user needs to know what was left
    fmt::print(stderr, "cp: interrupted: {} objects ({}) completed, {} skipped, {} cancelled\n",
               copied, human_bytes(static_cast<double>(bytes)), skipped, rep.cancelled());
    return;
  }
  if (g.quiet) return;
  std::string line =
      fmt::format("cp: {} objects{}, {} in {:.3f} s ({}/s)", copied, dry_run ? " (dry run)" : "",
                  human_bytes(static_cast<double>(bytes)), seconds, human_bytes(rate));
  if (skipped > 0) line += fmt::format("; {} skipped (already at the destination)", skipped);
  if (not_comparable > 0) {
    line += fmt::format("; {} copied again (equal size, no comparable checksum)", not_comparable);
  }
  fmt::print(stderr, "{}\n", line);
}

}  // namespace

void print_dry_run(const Globals& g, const char* action, const std::string& src,
                   const std::string& dst) {
  std::lock_guard lock(g_print_mu);
  if (g.json) {
    nlohmann::json j{{"dryrun", true}, {"op", action}, {"src", src}};
    if (!dst.empty()) j["dst"] = dst;
    print_line(j.dump());
  } else if (dst.empty()) {
    print_line(fmt::format("(dryrun) {}: {}", action, src));
  } else {
    print_line(fmt::format("(dryrun) {}: {} to {}", action, src, dst));
  }
}

void report_failures(const BatchReport& rep) {
  for (const auto& [what, e] : rep.failures) {
    if (e.code() == ErrorCode::kCancelled && interrupt_token().is_cancelled()) continue;
    fmt::print(stderr, "omnio: failed: {}: {}\n", what, e.to_string());
  }
  if (rep.partial()) mark_partial_failure();
}

Status cmd_cp_tree(const CpArgs& a, const Globals& g) {
  if (a.size_only && !a.skip_existing) {
    return Error(ErrorCode::kInvalidArgument, "--size-only refines --skip-existing; give both");
  }
  OMNIO_ASSIGN_OR_RETURN(std::string src, to_uri(a.src));
  OMNIO_ASSIGN_OR_RETURN(std::string dst, to_uri(a.dst));
  // The objects under SRC/ land under DST/ with their relative paths (never flattened).
  if (src.back() != '/') src += '/';
  if (dst.back() != '/') dst += '/';
  OMNIO_ASSIGN_OR_RETURN(Uri canonical, Uri::parse(src));  // listings use the canonical form
  src = canonical.to_string();
  OMNIO_ASSIGN_OR_RETURN(auto sstore, store_for_uri(src, cli_config()));
  OMNIO_ASSIGN_OR_RETURN(auto dstore, store_for_uri(dst, cli_config()));
  const CancellationToken& cancel = interrupt_token();
  if (!a.keys_from.empty()) {
    // A bad line is a usage error (exit 2) before anything is copied, not a partial copy: one
    // streaming pass checks the whole file first.
    OMNIO_TRY(
        enumerate(*sstore, src, a.keys_from, "cp -r", [](WorkItem&&) { return ok_status(); }));
  }
  const SkipPolicy policy = a.size_only ? SkipPolicy::kSizeOnly : SkipPolicy::kSizeAndChecksum;
  const std::size_t part_size = cli_config().s3.part_size.value_or(kDefaultPartSize);
  Progress progress(a.dry_run ? "cp (dry run)" : "cp", std::nullopt, g);
  std::atomic<std::uint64_t> copied{0}, skipped{0}, not_comparable{0};
  std::uint64_t listed = 0;
  // A plain dry run prints in listing order; with checks to make, they run in parallel.
  const std::size_t jobs =
      a.dry_run && !a.skip_existing ? 1 : (a.jobs == 0 ? kDefaultCliJobs : a.jobs);
  // The listing (or key list) streams into a bounded queue that the workers drain: memory does not
  // grow with the number of objects, and copying starts with the first page.
  auto produce = [&](const WorkEmit& emit) -> Status {
    OMNIO_TRY(enumerate(*sstore, src, a.keys_from, "cp -r", [&](WorkItem&& item) {
      ++listed;
      progress.grow_total(item.size);
      return emit(std::move(item));
    }));
    progress.total_final();
    return ok_status();
  };
  BatchReport rep = run_streamed(
      produce, fmt::format("listing {}", a.keys_from.empty() ? src : a.keys_from), jobs,
      kBatchQueueItems, cancel, [&](const WorkItem& item) -> Status {
        const std::string target = dst + item.uri.substr(src.size());
        if (a.skip_existing) {
          OMNIO_ASSIGN_OR_RETURN(SkipVerdict v, already_copied(*sstore, item.uri, *dstore, target,
                                                               policy, part_size, cancel));
          if (v.skip) {
            skipped.fetch_add(1);
            return ok_status();
          }
          if (v.not_comparable) not_comparable.fetch_add(1);
        }
        if (a.dry_run) {
          print_dry_run(g, "copy", item.uri, target);
          copied.fetch_add(item.size);
          return ok_status();
        }
        OMNIO_ASSIGN_OR_RETURN(std::uint64_t n,
                               copy_object(*sstore, item.uri, *dstore, target, cancel,
                                           [&](std::uint64_t k) { progress.add(k); }));
        copied.fetch_add(n, std::memory_order_relaxed);
        progress.add_object();
        return ok_status();
      });
  progress.finish();
  if (listed == 0) {
    // Nothing was listed: the listing's own error (a missing bucket, bad credentials) is the
    // answer, as one line, not a batch summary.
    if (!rep.failures.empty()) return std::move(rep.failures.front().second);
    if (rep.complete()) {
      return Error(ErrorCode::kNotFound,
                   fmt::format("cp -r {}: no objects under this prefix", src));
    }
  }
  report_failures(rep);
  report_cp(g, rep, copied.load(), progress.seconds(), skipped.load(), not_comparable.load(),
            a.dry_run);
  return rep.status(fmt::format("cp -r {} {}", src, dst));
}

Status cmd_rm(const RmArgs& a, const Globals& g) {
  const CancellationToken& cancel = interrupt_token();
  std::string uri;
  if (!a.uri.empty()) {
    OMNIO_ASSIGN_OR_RETURN(uri, to_uri(a.uri));
  }
  auto report = [&](const BatchReport& rep, const std::string& what) -> Status {
    report_failures(rep);
    const std::uint64_t failed = failed_count(rep);
    if (g.json) {
      nlohmann::json j{{"op", "rm"},
                       {"deleted", rep.succeeded},
                       {"failed", failed},
                       {"cancelled", rep.cancelled()}};
      if (a.dry_run) j["dryrun"] = true;
      if (cancel.is_cancelled()) j["interrupted"] = true;
      print_line(j.dump());
    } else if (cancel.is_cancelled()) {
      fmt::print(stderr, "rm: interrupted: {} objects deleted, {} cancelled\n", rep.succeeded,
                 rep.cancelled());
    } else if (!g.quiet) {
      fmt::print(stderr, "rm: {} {} objects{}\n", a.dry_run ? "would delete" : "deleted",
                 rep.succeeded, failed > 0 ? fmt::format(", {} failed", failed) : "");
    }
    return rep.status(what);
  };

  if (!a.keys_from.empty()) {
    // The listed objects, streamed in pages: memory does not grow with the list.
    std::string base = uri;
    if (!base.empty() && base.back() != '/') base += '/';
    OMNIO_ASSIGN_OR_RETURN(KeyListReader r, KeyListReader::open(a.keys_from, base));
    std::shared_ptr<ObjectStore> store;
    std::string store_scheme;
    BatchReport rep;
    std::vector<std::string> page;
    auto flush = [&]() -> Status {
      if (page.empty()) return ok_status();
      if (a.dry_run) {
        for (const auto& u : page) print_dry_run(g, "delete", u);
        rep.succeeded += page.size();
      } else {
        rep.merge(store->delete_objects(page, cancel));
      }
      page.clear();
      return ok_status();
    };
    for (;;) {
      if (cancel.is_cancelled()) break;
      OMNIO_ASSIGN_OR_RETURN(auto e, r.next());
      if (!e) break;
      OMNIO_ASSIGN_OR_RETURN(Scheme sc, scheme_of(e->uri));
      if (!store) {
        OMNIO_ASSIGN_OR_RETURN(store, store_for_uri(e->uri, cli_config()));
        store_scheme = scheme_name(sc);
      } else if (store_scheme != scheme_name(sc)) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("key list '{}' line {}: '{}' is not a {}:// URI; rm "
                                 "--keys-from deletes from one kind of store per run",
                                 a.keys_from, r.line(), e->uri, store_scheme));
      }
      page.push_back(std::move(e->uri));
      if (page.size() >= kDeletePageSize) OMNIO_TRY(flush());
    }
    OMNIO_TRY(flush());
    if (rep.succeeded == 0 && rep.failures.empty() && !cancel.is_cancelled()) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("key list '{}': lists no objects", a.keys_from));
    }
    return report(rep, fmt::format("rm --keys-from {}", a.keys_from));
  }

  if (uri.empty()) return Error(ErrorCode::kInvalidArgument, "rm needs a URI (or --keys-from)");
  OMNIO_ASSIGN_OR_RETURN(auto store, store_for_uri(uri, cli_config()));
  if (!a.recursive) {
    if (a.dry_run) {
      print_dry_run(g, "delete", uri);
      return ok_status();
    }
    OMNIO_TRY(store->delete_object(uri));
    if (g.json) print_line(nlohmann::json{{"op", "rm"}, {"deleted", 1}, {"failed", 0}}.dump());
    return ok_status();
  }
  OMNIO_ASSIGN_OR_RETURN(Uri canonical, Uri::parse(uri));
  uri = canonical.to_string();
  if (a.dry_run) {
    BatchReport rep;
    OMNIO_TRY(store->list_stream(
        uri, true,
        [&](ListEntry&& e) {
          if (e.is_dir) return ok_status();
          print_dry_run(g, "delete", e.uri);
          ++rep.succeeded;
          return ok_status();
        },
        cancel));
    return report(rep, fmt::format("rm -r {}", uri));
  }
  OMNIO_ASSIGN_OR_RETURN(BatchReport rep, store->delete_prefix_report(uri, cancel));
  return report(rep, fmt::format("rm -r {}", uri));
}

}  // namespace omnio::cli
