// Local store namespace operations: stat, string-prefix listing, deletes, containers, copy, rename.
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <set>

#include "backends/file/file_store_impl.h"

namespace omnio::fs {
namespace {

constexpr std::string_view kTempMarker = ".omnio-tmp.";

bool is_temp(std::string_view name) {
  return !name.empty() && name.front() == '.' && name.find(kTempMarker) != std::string_view::npos;
}

std::string join(const std::string& dir, std::string_view name) {
  return dir == "/" ? "/" + std::string(name) : dir + "/" + std::string(name);
}

// Visits the entries of `dir` whose names start with `name_prefix`.
Status scan_dir(
    const std::string& dir, std::string_view name_prefix,
    const std::function<Status(const std::string& path, bool is_dir, std::uint64_t size)>& fn) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return ok_status();  // nothing under this prefix
    return errno_error(errno, fmt::format("opendir {}", dir));
  }
  std::vector<std::pair<std::string, struct stat>> found;
  while (dirent* e = ::readdir(d)) {
    std::string_view name(e->d_name);
    if (name == "." || name == ".." || is_temp(name)) continue;
    if (name.substr(0, name_prefix.size()) != name_prefix) continue;
    struct stat st {};
    if (::fstatat(dirfd(d), e->d_name, &st, 0) != 0) continue;  // vanished or dangling link
    found.emplace_back(std::string(name), st);
  }
  ::closedir(d);
  // Sorted as full URIs sort: a directory's children ("a/x") after its siblings "a-b" and "a.c".
  auto key = [](const std::pair<std::string, struct stat>& f) {
    return S_ISDIR(f.second.st_mode) ? f.first + "/" : f.first;
  };
  std::sort(found.begin(), found.end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
  for (auto& [name, st] : found) {
    if (S_ISDIR(st.st_mode)) {
      OMNIO_TRY(fn(join(dir, name), true, 0));
    } else if (S_ISREG(st.st_mode)) {
      OMNIO_TRY(fn(join(dir, name), false, static_cast<std::uint64_t>(st.st_size)));
    }
  }
  return ok_status();
}

}  // namespace

Status LocalStore::list_stream(std::string_view prefix_uri, bool recursive, const ListSink& sink) {
  OMNIO_ASSIGN_OR_RETURN(std::string prefix, path_of(prefix_uri, /*allow_dir=*/true));
  // String-prefix semantics: "/d/img_" lists /d/img_001, "/d/" lists everything in /d.
  std::string dir, name_prefix;
  if (prefix.back() == '/') {
    dir = prefix.size() > 1 ? prefix.substr(0, prefix.size() - 1) : "/";
  } else {
    auto slash = prefix.find_last_of('/');
    dir = slash == 0 ? "/" : prefix.substr(0, slash);
    name_prefix = prefix.substr(slash + 1);
  }
  // Each directory is read whole and sorted, then walked depth-first: entries come out in URI
  // order holding one directory per level of the current path, never the whole tree.
  std::function<Status(const std::string&, bool, std::uint64_t)> visit =
      [&](const std::string& path, bool is_dir, std::uint64_t size) -> Status {
    if (!is_dir) return sink({uri_of(path), size, false});
    if (!recursive) return sink({uri_of(path) + "/", 0, true});
    return scan_dir(path, "", visit);
  };
  return scan_dir(dir, name_prefix, visit);
}

Result<std::vector<ListEntry>> LocalStore::list_entries(std::string_view prefix_uri,
                                                        bool recursive) {
  return collect_list_stream(prefix_uri, recursive);
}

Result<ObjectMetadata> LocalStore::stat(std::string_view uri) {
  OMNIO_ASSIGN_OR_RETURN(std::string path, path_of(uri));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno_error(errno, fmt::format("stat {}", uri));
  if (!S_ISREG(st.st_mode)) {
    return Error(ErrorCode::kNotFound, fmt::format("stat {}: {} is not a regular file (objects are "
                                                   "files; directories are prefixes)",
                                                   uri, path));
  }
  ObjectMetadata m;
  m.size = static_cast<std::uint64_t>(st.st_size);
  m.last_modified = rfc3339(st.st_mtim);
  // Changes whenever the content can have changed: inode (replaced by rename), size, mtime.
  m.etag = fmt::format("\"{:x}-{:x}-{:x}{:09x}\"", st.st_ino, st.st_size, st.st_mtim.tv_sec,
                       st.st_mtim.tv_nsec);
  m.storage_class = cfg_.use_direct_io ? "DIRECT_IO" : "STANDARD";
  return m;
}

Status LocalStore::delete_object(std::string_view uri) {
  OMNIO_ASSIGN_OR_RETURN(std::string path, path_of(uri));
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("delete {}: is a directory; use delete_prefix (rm -r) for prefixes", uri));
  }
  if (::unlink(path.c_str()) != 0) return errno_error(errno, fmt::format("delete {}", uri));
  return ok_status();
}

Result<BatchReport> LocalStore::delete_prefix_report(std::string_view prefix_uri,
                                                     const CancellationToken& cancel) {
  OMNIO_ASSIGN_OR_RETURN(std::string prefix, path_of(prefix_uri, true));
  BatchReport report;
  std::set<std::string, std::greater<>> dirs;  // deepest first
  const std::string stop = prefix.back() == '/' ? prefix.substr(0, prefix.size() - 1)
                                                : prefix.substr(0, prefix.find_last_of('/'));
  // Each directory's listing is complete before its files go, so deleting while walking is safe.
  Status listed = list_stream(prefix_uri, /*recursive=*/true, [&](ListEntry&& e) -> Status {
    if (cancel.is_cancelled()) return Error(ErrorCode::kCancelled, "delete: cancelled");
    Status s = delete_object(e.uri);
    if (!s.ok()) {
      report.failures.emplace_back(e.uri, std::move(s).error());
      return ok_status();
    }
    ++report.succeeded;
    OMNIO_ASSIGN_OR_RETURN(std::string p, path_of(e.uri));
    for (auto slash = p.find_last_of('/'); slash != std::string::npos && slash > 0;
         slash = p.find_last_of('/', slash - 1)) {
      std::string d = p.substr(0, slash);
      if (d.size() <= stop.size() || !dirs.insert(d).second) break;
    }
    return ok_status();
  });
  if (!listed.ok() && !cancel.is_cancelled()) return std::move(listed).error();
  if (!listed.ok()) {
    report.failures.emplace_back(fmt::format("{} (the rest)", prefix_uri),
                                 Error(ErrorCode::kCancelled, "not deleted: cancelled"));
  }
  // Directories emptied by the delete go too (a prefix leaves nothing behind), but never the
  // directory the prefix lives in.
  for (const auto& d : dirs) (void)::rmdir(d.c_str());
  return report;
}

Result<std::uint64_t> LocalStore::delete_prefix(std::string_view prefix_uri) {
  OMNIO_ASSIGN_OR_RETURN(BatchReport r, delete_prefix_report(prefix_uri, CancellationToken{}));
  if (!r.failures.empty()) {
    std::string names;
    for (std::size_t i = 0; i < r.failures.size() && i < 10; ++i)
      names += (i ? ", " : "") + r.failures[i].first;
    return r.failures.front().second.wrap(
        fmt::format("delete_prefix {}: {} of {} deletes failed: {}", prefix_uri, r.failures.size(),
                    r.failures.size() + r.succeeded, names));
  }
  return r.succeeded;
}

Status LocalStore::create_container(std::string_view container_uri) {
  OMNIO_ASSIGN_OR_RETURN(std::string path, path_of(container_uri, true));
  if (path.back() != '/') path += '/';
  OMNIO_TRY(make_parents(path + "x"));
  return ok_status();
}

Status LocalStore::delete_container(std::string_view container_uri) {
  OMNIO_ASSIGN_OR_RETURN(std::string path, path_of(container_uri, true));
  if (::rmdir(path.c_str()) != 0) {
    if (errno == ENOTEMPTY || errno == EEXIST) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("delete_container {}: not empty", container_uri))
          .with_errno(errno);
    }
    return errno_error(errno, fmt::format("delete_container {}", container_uri));
  }
  return ok_status();
}

Status LocalStore::copy(std::string_view src_uri, std::string_view dst_uri) {
  OMNIO_TRY(path_of(src_uri));
  OMNIO_TRY(path_of(dst_uri));
  // Streams through a writer: bounded memory whatever the size, atomic at the destination.
  OMNIO_ASSIGN_OR_RETURN(auto w, create_writer(dst_uri, {}));
  Status s = get_to_sink(src_uri, [&](std::uint64_t, Bytes chunk) { return w->write(chunk); }, {});
  if (!s.ok()) {
    (void)w->cancel();
    return std::move(s).error().wrap(fmt::format("copy {} -> {}", src_uri, dst_uri));
  }
  return w->finalize();
}

Status LocalStore::rename(std::string_view src_uri, std::string_view dst_uri) {
  OMNIO_ASSIGN_OR_RETURN(std::string src, path_of(src_uri));
  OMNIO_ASSIGN_OR_RETURN(std::string dst, path_of(dst_uri));
  struct stat st {};
  if (::stat(src.c_str(), &st) != 0) return errno_error(errno, fmt::format("rename {}", src_uri));
  OMNIO_TRY(make_parents(dst));
  if (::rename(src.c_str(), dst.c_str()) != 0) {
    return errno_error(errno, fmt::format("rename {} -> {}", src_uri, dst_uri));
  }
  return ok_status();
}

}  // namespace omnio::fs
