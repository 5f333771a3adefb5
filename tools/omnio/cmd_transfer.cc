// get, put, cp: whole objects stream with bounded memory through the library's transfer helpers.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <vector>

#include "commands.h"
#include "omnio/constants.h"
#include "omnio/store_factory.h"
#include "omnio/transfer.h"
#include "omnio/uri.h"

namespace omnio::cli {
namespace {

std::string basename_of(const std::string& uri) {
  std::string s = uri;
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s.substr(s.find_last_of('/') + 1);
}

bool is_local_dir(const std::string& uri) {
  if (uri.rfind("file://", 0) != 0 && uri.rfind("direct://", 0) != 0) return false;
  struct stat st {};
  std::string path = uri.substr(uri.find("://") + 3);
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// DST ending in '/' or naming an existing directory means "into it".
std::string resolve_dest(const std::string& src_uri, std::string dst_uri) {
  if (!dst_uri.empty() && dst_uri.back() == '/') return dst_uri + basename_of(src_uri);
  if (is_local_dir(dst_uri)) return dst_uri + "/" + basename_of(src_uri);
  return dst_uri;
}

}  // namespace

Status check_jobs(std::size_t j) {
  if (j > kMaxCliJobs) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("-j {} is too large; expected 1..{}", j, kMaxCliJobs));
  }
  return ok_status();
}

Status cmd_get(const GetArgs& a, const Globals& g) {
  OMNIO_TRY(check_jobs(a.jobs));
  if (!a.keylist.empty()) {
    if (!a.dest.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "get --keys-from FILE [PREFIX] --discard reads the listed objects; to copy "
                   "them to a destination use cp -r --keys-from FILE SRC DST");
    }
    if (!a.discard || a.offset || a.length || a.recursive) {
      return Error(
          ErrorCode::kInvalidArgument,
          "--keys-from reads whole objects and needs --discard (no -r, --offset, --length)");
    }
    return cmd_get_workload(a, g);
  }
  if (a.uri.empty()) {
    return Error(ErrorCode::kInvalidArgument, "get needs a URI (or --keylist FILE --discard)");
  }
  OMNIO_ASSIGN_OR_RETURN(std::string uri, to_uri(a.uri));
  OMNIO_ASSIGN_OR_RETURN(auto store, store_for_uri(uri, cli_config()));
  const CancellationToken& cancel = interrupt_token();
  const bool to_stdout = !a.discard && (a.dest.empty() || a.dest == "-");

  const bool many =
      a.recursive || (a.discard && (a.jobs_given || (!uri.empty() && uri.back() == '/')));
  if (many) {
    if (a.offset || a.length) {
      return Error(ErrorCode::kInvalidArgument,
                   "--offset/--length read one object; they cannot be combined with -r, "
                   "--keylist or a prefix");
    }
    if (!a.discard) {
      if (to_stdout) {
        return Error(ErrorCode::kInvalidArgument,
                     "reading many objects needs --discard (or, with -r, a destination "
                     "directory: use cp -r to copy a tree)");
      }
      CpArgs cp{a.uri, a.dest, true, a.jobs};
      cp.dry_run = a.dry_run;
      return cmd_cp(cp, g);
    }
    return cmd_get_workload(a, g);
  }
  if (a.dry_run) {
    if (a.discard) {
      print_dry_run(g, "read", uri);
    } else if (to_stdout) {
      print_dry_run(g, "download", uri, "-");
    } else {
      OMNIO_ASSIGN_OR_RETURN(std::string dst, to_uri(a.dest));
      print_dry_run(g, "download", uri, resolve_dest(uri, dst));
    }
    return ok_status();
  }

  if (a.offset || a.length) {
    std::uint64_t off = 0;
    std::optional<std::uint64_t> len;
    if (a.offset) {
      OMNIO_ASSIGN_OR_RETURN(off, parse_size(*a.offset, "--offset"));
    }
    if (a.length) {
      OMNIO_ASSIGN_OR_RETURN(len, parse_size(*a.length, "--length"));
    }
    Progress progress("get", len, g);
    ReadOptions ro;
    ro.cancel = cancel;
    OMNIO_ASSIGN_OR_RETURN(Bytes b, store->get_range(uri, off, len, ro));
    progress.add(b.size());
    progress.finish();
    if (to_stdout) {
      OMNIO_TRY(write_stdout(b.data(), b.size()));
    } else if (!a.discard) {
      OMNIO_ASSIGN_OR_RETURN(std::string dst, to_uri(a.dest));
      dst = resolve_dest(uri, dst);
      OMNIO_ASSIGN_OR_RETURN(auto dstore, store_for_uri(dst, cli_config()));
      OMNIO_TRY(dstore->put(dst, b));
    }
    report_transfer(g, "get", b.size(), progress.seconds(), 1);
    return ok_status();
  }

  Progress progress("get", std::nullopt, g);
  std::uint64_t total = 0;  // the object's size once (progress may count a retried range twice)
  if (a.discard) {          // nothing to keep: bytes are counted as they arrive, in any order
    ReadOptions ro;
    ro.cancel = cancel;
    auto r = store->get_positional(
        uri,
        [&](std::uint64_t, std::span<const std::byte> data) {
          progress.add(data.size());
          return ok_status();
        },
        ro);
    progress.finish();
    if (!r.ok()) return std::move(r).error();
    total = *r;
  } else if (to_stdout) {
    bool closed = false;
    ReadOptions ro;
    ro.cancel = cancel;
    Status s = store->get_to_sink(
        uri,
        [&](std::uint64_t, Bytes b) -> Status {
          progress.add(b.size());
          if (a.discard) return ok_status();
          OMNIO_ASSIGN_OR_RETURN(bool open, write_stdout(b.data(), b.size()));
          if (!open) {
            closed = true;
            return Error(ErrorCode::kCancelled, "stdout closed");
          }
          return ok_status();
        },
        ro);
    progress.finish();
    if (!s.ok() && !closed) return s;
    total = progress.bytes();
  } else {
    OMNIO_ASSIGN_OR_RETURN(std::string dst, to_uri(a.dest));
    dst = resolve_dest(uri, dst);
    OMNIO_ASSIGN_OR_RETURN(auto dstore, store_for_uri(dst, cli_config()));
    OMNIO_ASSIGN_OR_RETURN(total, copy_object(*store, uri, *dstore, dst, cancel,
                                              [&](std::uint64_t n) { progress.add(n); }));
    progress.finish();
  }
  report_transfer(g, "get", total, progress.seconds(), 1);
  return ok_status();
}

Status cmd_put(const PutArgs& a, const Globals& g) {
  if (a.count) {
    if (a.dry_run) {
      return Error(ErrorCode::kInvalidArgument,
                   "--dry-run is not supported with -n (the objects are generated; nothing would "
                   "be read or compared)");
    }
    return cmd_put_workload(a, g);
  }
  if (a.size || a.seed || a.name_template || a.format || a.dedup || a.compress || a.samples ||
      a.jobs || a.index) {
    return Error(ErrorCode::kInvalidArgument,
                 "-s/--template/--format/--dedup/--compress/--seed/--samples/--index/-j need "
                 "-n COUNT (put PREFIX -n COUNT -s SIZE writes generated objects)");
  }
  if (a.uri.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "put SRC URI: missing the destination URI (or give -n COUNT -s SIZE to write "
                 "generated objects under the prefix SRC)");
  }
  OMNIO_ASSIGN_OR_RETURN(std::string uri, to_uri(a.uri));
  if (a.dry_run) {
    if (a.src == "-") {
      print_dry_run(g, "upload", "-", uri);
    } else {
      OMNIO_ASSIGN_OR_RETURN(std::string src, to_uri(a.src));
      print_dry_run(g, "upload", src, resolve_dest(src, uri));
    }
    return ok_status();
  }
  OMNIO_ASSIGN_OR_RETURN(auto store, store_for_uri(uri, cli_config()));
  WriterOptions wo;
  wo.zstd_level = a.zstd;
  wo.put.content_type = a.content_type;
  wo.put.cancel = interrupt_token();
  Progress progress("put", std::nullopt, g);
  if (a.src == "-") {
    if (!uri.empty() && uri.back() == '/') {
      return Error(ErrorCode::kInvalidArgument,
                   "put from stdin needs an object name, not a prefix");
    }
    OMNIO_ASSIGN_OR_RETURN(auto w, store->create_writer(uri, wo));
    std::vector<std::byte> buf(kDefaultFileIoBlockSize);
    for (;;) {
      if (interrupt_token().is_cancelled()) {
        (void)w->cancel();
        return Error(ErrorCode::kCancelled, fmt::format("put {}: interrupted", uri));
      }
      ssize_t r = ::read(STDIN_FILENO, buf.data(), buf.size());
      if (r < 0) {
        if (errno == EINTR) continue;
        Error e = errno_error(errno, "read stdin");
        (void)w->cancel();
        return e;
      }
      if (r == 0) break;
      OMNIO_TRY(w->write(std::span(buf).first(static_cast<std::size_t>(r))));
      progress.add(static_cast<std::uint64_t>(r));
    }
    OMNIO_TRY(w->finalize());
  } else {
    OMNIO_ASSIGN_OR_RETURN(std::string src, to_uri(a.src));
    uri = resolve_dest(src, uri);
    OMNIO_ASSIGN_OR_RETURN(auto sstore, store_for_uri(src, cli_config()));
    OMNIO_TRY(copy_object(
        *sstore, src, *store, uri, interrupt_token(), [&](std::uint64_t n) { progress.add(n); },
        wo));
  }
  progress.finish();
  report_transfer(g, "put", progress.bytes(), progress.seconds(), 1);
  return ok_status();
}

Status cmd_cp(const CpArgs& a, const Globals& g) {
  OMNIO_TRY(check_jobs(a.jobs));
  if (a.recursive || !a.keys_from.empty()) return cmd_cp_tree(a, g);
  if (a.size_only && !a.skip_existing) {
    return Error(ErrorCode::kInvalidArgument, "--size-only refines --skip-existing; give both");
  }
  OMNIO_ASSIGN_OR_RETURN(std::string src, to_uri(a.src));
  OMNIO_ASSIGN_OR_RETURN(std::string dst, to_uri(a.dst));
  OMNIO_ASSIGN_OR_RETURN(auto sstore, store_for_uri(src, cli_config()));
  OMNIO_ASSIGN_OR_RETURN(auto dstore, store_for_uri(dst, cli_config()));
  const CancellationToken& cancel = interrupt_token();
  dst = resolve_dest(src, dst);
  if (a.skip_existing) {
    OMNIO_ASSIGN_OR_RETURN(
        SkipVerdict v,
        already_copied(*sstore, src, *dstore, dst,
                       a.size_only ? SkipPolicy::kSizeOnly : SkipPolicy::kSizeAndChecksum,
                       cli_config().s3.part_size.value_or(kDefaultPartSize), cancel));
    if (v.skip) {
      if (g.json) {
        print_line(
            nlohmann::json{{"op", "cp"}, {"objects", 0}, {"skipped", 1}, {"bytes", 0}}.dump());
      } else if (!g.quiet) {
        fmt::print(stderr, "cp: {} is already at {} ({}); skipped\n", src, dst, v.reason);
      }
      return ok_status();
    }
  }
  if (a.dry_run) {
    print_dry_run(g, "copy", src, dst);
    return ok_status();
  }
  Progress progress("cp", std::nullopt, g);
  OMNIO_ASSIGN_OR_RETURN(
      std::uint64_t total,
      copy_object(*sstore, src, *dstore, dst, cancel, [&](std::uint64_t n) { progress.add(n); }));
  progress.finish();
  report_transfer(g, "cp", total, progress.seconds(), 1);
  return ok_status();
}

}  // namespace omnio::cli
