// omnio: one CLI over file://, direct://, s3://, az://, gs://. Parses arguments, calls the library,
// prints. The only place that prints an error and picks the exit code.
#include <CLI/CLI.hpp>

#include <cstdio>

#include <fmt/format.h>

#include "commands.h"
#include "omnio/env.h"
#include "omnio/log.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

}  // namespace

int main(int argc, char** argv) {
  using namespace omnio::cli;
  install_signal_handlers();
  CLI::App app{"omnio: fast storage I/O for AI/ML workloads (file://, direct://, s3://, az://, gs://)"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags work after the subcommand too
  app.set_version_flag("--version", "omnio 0.1.0");
  Globals g;
  app.add_flag("--json", g.json, "machine-readable output: one JSON object per line");
  app.add_flag("-q,--quiet", g.quiet, "no progress or summary on stderr");
  app.add_flag("-v,--verbose", g.verbose, "more logging (-v info, -vv debug)");
  app.add_option("--endpoint-url", g.endpoint_url,
                 "S3 endpoint, e.g. http://127.0.0.1:9000 (default: AWS_ENDPOINT_URL_S3, "
                 "AWS_ENDPOINT_URL, the profile, else AWS)");
  app.add_option("--region", g.region, "S3 region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile, else us-east-1)");
  app.add_option("--azure-endpoint", g.azure_endpoint,
                 "Azure blob endpoint, e.g. Azurite's http://127.0.0.1:10000 (default: the connection "
                 "string's BlobEndpoint, AZURE_STORAGE_ENDPOINT, else https://<account>.blob.core.windows.net)");
  app.add_option("--profile", g.profile, "profile of ~/.aws/credentials and ~/.aws/config (default: AWS_PROFILE, else default)");

  LsArgs ls;
  auto* c_ls = app.add_subcommand("ls", "list objects under a prefix (string-prefix semantics)");
  c_ls->add_option("uri", ls.uri, "URI or local path; a trailing '/' lists a directory")->required();
  c_ls->add_flag("-r,--recursive", ls.recursive, "everything below, not just one level");
  c_ls->add_option("--glob", ls.glob, "keep names matching this shell glob (relative to the prefix)");
  c_ls->add_flag("-l,--long", ls.long_format, "show sizes");
  c_ls->add_flag("--summary", ls.summary, "print 'Total objects: N' on stderr");

  std::string stat_uri;
  auto* c_stat = app.add_subcommand("stat", "show an object's metadata");
  c_stat->add_option("uri", stat_uri, "object URI or local path")->required();

  GetArgs get;
  auto* c_get = app.add_subcommand("get", "read an object to stdout, a file, or nowhere (--discard)");
  c_get->add_option("uri", get.uri, "object URI (a prefix with -r)")->required();
  c_get->add_option("dest", get.dest, "local path or URI; '-' or absent = stdout");
  c_get->add_option("--offset", get.offset, "first byte to read (e.g. 4096, 1MiB)");
  c_get->add_option("--length", get.length, "bytes to read (default: to the end)");
  c_get->add_flag("--discard", get.discard, "read and drop the data (benchmark)");
  c_get->add_flag("-r,--recursive", get.recursive, "every object under the prefix");
  c_get->add_option("-j,--jobs", get.jobs, "objects in parallel with -r (default 32)");

  PutArgs put;
  int zstd_level = 0;
  auto* c_put = app.add_subcommand("put", "write a local file or stdin ('-') to an object");
  c_put->add_option("src", put.src, "local file, URI, or '-' for stdin")->required();
  c_put->add_option("uri", put.uri, "destination URI (a trailing '/' keeps the source name)")->required();
  auto* zopt = c_put->add_option("--zstd", zstd_level, "compress with zstd at this level (1-22); "
                                                       "the object gets a .zst suffix")
                   ->expected(0, 1)
                   ->default_str("3");
  c_put->add_option("--content-type", put.content_type, "Content-Type of the object");

  CpArgs cp;
  auto* c_cp = app.add_subcommand("cp", "copy objects between any two stores");
  c_cp->add_option("src", cp.src, "source URI or local path")->required();
  c_cp->add_option("dst", cp.dst, "destination URI or local path")->required();
  c_cp->add_flag("-r,--recursive", cp.recursive, "copy everything under SRC/ into DST/, keeping paths");
  c_cp->add_option("-j,--jobs", cp.jobs, "objects in parallel (default 32, max 4096)");

  std::string rm_uri;
  bool rm_recursive = false;
  auto* c_rm = app.add_subcommand("rm", "delete an object, or everything under a prefix (-r)");
  c_rm->add_option("uri", rm_uri, "object URI, or prefix with -r")->required();
  c_rm->add_flag("-r,--recursive", rm_recursive, "delete every object under the prefix");

  std::string mb_uri, rb_uri;
  auto* c_mb = app.add_subcommand("mb", "make a container (bucket, directory)");
  c_mb->add_option("uri", mb_uri, "container URI")->required();
  auto* c_rb = app.add_subcommand("rb", "remove an empty container");
  c_rb->add_option("uri", rb_uri, "container URI")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (g.verbose >= 2) {
    omnio::log::set_level(omnio::log::Level::kDebug);
  } else if (g.verbose == 1) {
    omnio::log::set_level(omnio::log::Level::kInfo);
  }
  for (const auto& v : omnio::env::unknown_omnio_variables()) {
    omnio::log::warn("unknown environment variable {}", v);
  }
  cli_config().s3.endpoint = g.endpoint_url;
  cli_config().s3.region = g.region;
  cli_config().s3.profile = g.profile;
  cli_config().azure.endpoint = g.azure_endpoint;
  if (zopt->count() > 0) put.zstd = zopt->results().empty() || zopt->results()[0].empty() ? 3 : zstd_level;

  omnio::Status s;
  if (*c_ls) s = cmd_ls(ls, g);
  else if (*c_stat) s = cmd_stat(stat_uri, g);
  else if (*c_get) s = cmd_get(get, g);
  else if (*c_put) s = cmd_put(put, g);
  else if (*c_cp) s = cmd_cp(cp, g);
  else if (*c_rm) s = cmd_rm(rm_uri, rm_recursive, g);
  else if (*c_mb) s = cmd_mb(mb_uri, g);
  else if (*c_rb) s = cmd_rb(rb_uri, g);

  if (s.ok()) return kExitOk;
  std::fflush(stdout);
  fmt::print(stderr, "omnio: error: {}\n", s.error().to_string());
  if (s.error().code() == omnio::ErrorCode::kCancelled && interrupt_token().is_cancelled()) {
    return kExitInterrupted;
  }
  return s.error().code() == omnio::ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
}
