// ls, stat, rm, mb, rb.
#include <fmt/format.h>
#include <fnmatch.h>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "omnio/store_factory.h"
#include "omnio/transfer.h"

namespace omnio::cli {

bool print_line(const std::string& line) {
  std::string l = line + "\n";
  auto r = write_stdout(l.data(), l.size());
  return r.ok() && *r;
}

void report_transfer(const Globals& g, const std::string& op, std::uint64_t bytes, double seconds,
                     std::uint64_t objects) {
  const double rate = seconds > 0 ? static_cast<double>(bytes) / seconds : 0;
  if (g.json) {
    nlohmann::json j{{"op", op},
                     {"bytes", bytes},
                     {"objects", objects},
                     {"seconds", seconds},
                     {"bytes_per_second", rate}};
    print_line(j.dump());
  } else if (!g.quiet) {
    fmt::print(stderr, "{}: {} objects, {} in {:.3f} s ({}/s)\n", op, objects,
               human_bytes(static_cast<double>(bytes)), seconds, human_bytes(rate));
  }
}

Status cmd_ls(const LsArgs& a, const Globals& g) {
  OMNIO_ASSIGN_OR_RETURN(std::string uri, to_uri(a.uri));
  OMNIO_ASSIGN_OR_RETURN(auto store, store_for_uri(uri, cli_config()));
  // A bare scheme ("s3://") or an Azure account ("az://account"): list the containers.
  const bool azure_account = uri.rfind("az://", 0) == 0 && uri.find('/', 5) >= uri.size() - 1;
  if ((uri.size() > 3 && uri.compare(uri.size() - 3, 3, "://") == 0) || azure_account) {
    OMNIO_ASSIGN_OR_RETURN(auto names, store->list_containers(uri));
    for (const auto& n : names) {
      if (!print_line(g.json ? nlohmann::json{{"uri", n}, {"is_dir", true}}.dump() : n)) break;
    }
    return ok_status();
  }
  // Streamed: memory stays one page (network) or one directory per level (local) at any count.
  const std::size_t base = uri.find_last_of('/') + 1;
  std::uint64_t n = 0, bytes = 0;
  bool closed = false;
  Status listed = store->list_stream(
      uri, a.recursive,
      [&](ListEntry&& e) -> Status {
        // Globs match the part after the listing prefix's last '/', with fnmatch (never regex).
        if (!a.glob.empty()) {
          std::string rel = e.uri.substr(std::min(base, e.uri.size()));
          if (!rel.empty() && rel.back() == '/') rel.pop_back();
          if (::fnmatch(a.glob.c_str(), rel.c_str(), 0) != 0) return ok_status();
        }
        ++n;
        bytes += e.size;
        std::string line;
        if (g.json) {
          line = nlohmann::json{{"uri", e.uri}, {"size", e.size}, {"is_dir", e.is_dir}}.dump();
        } else if (a.long_format) {
          line = e.is_dir ? fmt::format("{:>14}  {}", "DIR", e.uri)
                          : fmt::format("{:>14}  {}", e.size, e.uri);
        } else {
          line = e.uri;
        }
        if (!print_line(line)) {  // stdout closed: stop quietly
          closed = true;
          return Error(ErrorCode::kCancelled, "stdout closed");
        }
        if (interrupt_token().is_cancelled())
          return Error(ErrorCode::kCancelled, "ls: interrupted");
        return ok_status();
      },
      interrupt_token());
  if (closed) return ok_status();
  OMNIO_TRY(listed);
  if (a.summary && !g.quiet) {
    fmt::print(stderr, "Total objects: {} ({})\n", n, human_bytes(static_cast<double>(bytes)));
  }
  return ok_status();
}

Status cmd_stat(const std::string& arg, const Globals& g) {
  OMNIO_ASSIGN_OR_RETURN(std::string uri, to_uri(arg));
  OMNIO_ASSIGN_OR_RETURN(auto store, store_for_uri(uri, cli_config()));
  OMNIO_ASSIGN_OR_RETURN(ObjectMetadata m, store->stat(uri));
  if (g.json) {
    nlohmann::json j{{"uri", uri},
                     {"size", m.size},
                     {"last_modified", m.last_modified},
                     {"etag", m.etag},
                     {"content_type", m.content_type},
                     {"storage_class", m.storage_class},
                     {"metadata", m.metadata}};
    print_line(j.dump());
    return ok_status();
  }
  print_line(fmt::format("URI           : {}", uri));
  print_line(fmt::format("Size          : {}", m.size));
  if (!m.last_modified.empty()) print_line(fmt::format("LastModified  : {}", m.last_modified));
  if (!m.etag.empty()) print_line(fmt::format("ETag          : {}", m.etag));
  if (!m.content_type.empty()) print_line(fmt::format("Content-Type  : {}", m.content_type));
  if (!m.storage_class.empty()) print_line(fmt::format("StorageClass  : {}", m.storage_class));
  for (const auto& [k, v] : m.metadata) print_line(fmt::format("Metadata      : {}={}", k, v));
  return ok_status();
}

Status cmd_mb(const std::string& arg, const Globals& g) {
  OMNIO_ASSIGN_OR_RETURN(std::string uri, to_uri(arg));
  OMNIO_ASSIGN_OR_RETURN(auto store, store_for_uri(uri, cli_config()));
  OMNIO_TRY(store->create_container(uri));
  if (g.json) print_line(nlohmann::json{{"op", "mb"}, {"uri", uri}}.dump());
  return ok_status();
}

Status cmd_rb(const std::string& arg, const Globals& g) {
  OMNIO_ASSIGN_OR_RETURN(std::string uri, to_uri(arg));
  OMNIO_ASSIGN_OR_RETURN(auto store, store_for_uri(uri, cli_config()));
  OMNIO_TRY(store->delete_container(uri));
  if (g.json) print_line(nlohmann::json{{"op", "rb"}, {"uri", uri}}.dump());
  return ok_status();
}

}  // namespace omnio::cli
