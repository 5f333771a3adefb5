// omnio: one CLI over file://, direct://, s3://, az://, gs://. Parses arguments, calls the library,
// prints. The only place that prints an error and picks the exit code.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "cmd_doctor.h"
#include "commands.h"
#include "omnio/constants.h"
#include "omnio/env.h"
#include "omnio/log.h"
#include "omnio/memory_budget.h"
#include "omnio/units.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitPartial = 3;  // some objects done, some failed (each listed on stderr)
constexpr int kExitInterrupted = 130;

}  // namespace

// -v: what the memory budget did (limit, peak, time producers waited for memory).
static void log_memory_budget() {
  const omnio::MemoryBudgetStats b = omnio::MemoryBudget::process().stats();
  omnio::log::info(
      "memory budget: limit {}, peak reserved {}, {} of {} reservations waited "
      "({:.3f} s)",
      b.limit == 0 ? std::string("off") : omnio::format_bytes(double(b.limit)),
      omnio::format_bytes(double(b.peak)), b.waits, b.reservations,
      std::chrono::duration<double>(b.wait_time).count());
}

int main(int argc, char** argv) {
  using namespace omnio::cli;
  install_signal_handlers();
  CLI::App app{
      "omnio: fast storage I/O for AI/ML workloads (file://, direct://, s3://, az://, gs://)"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags work after the subcommand too
  app.set_version_flag("--version", "omnio 0.1.0");
  Globals g;
  app.add_flag("--json", g.json, "machine-readable output: one JSON object per line");
  app.add_flag("-q,--quiet", g.quiet, "no progress or summary on stderr");
  app.add_flag("--no-progress", g.no_progress, "no progress line (the summary stays)");
  app.add_flag("-v,--verbose", g.verbose, "more logging (-v info, -vv debug)");
  app.add_option("--endpoint-url", g.endpoint_url,
                 "S3 endpoint, e.g. http://127.0.0.1:9000 (default: AWS_ENDPOINT_URL_S3, "
                 "AWS_ENDPOINT_URL, the profile, else AWS)");
  app.add_option(
      "--region", g.region,
      "S3 region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile, else us-east-1)");
  app.add_option(
      "--azure-endpoint", g.azure_endpoint,
      "Azure blob endpoint, e.g. Azurite's http://127.0.0.1:10000 (default: the connection "
      "string's BlobEndpoint, AZURE_STORAGE_ENDPOINT, else "
      "https://<account>.blob.core.windows.net)");
  app.add_option(
      "--profile", g.profile,
      "profile of ~/.aws/credentials and ~/.aws/config (default: AWS_PROFILE, else default)");
  app.add_option("--range-chunk", g.range_chunk,
                 "bytes per ranged GET of a large object on network stores (default 8MiB)");
  app.add_option("--max-ranges", g.max_ranges,
                 "ranged GETs of one object in flight on network stores (default 32)");
  app.add_option("--part-size", g.part_size,
                 "part/block/chunk size of uploads to network stores, and the largest upload "
                 "sent as one request (default 16MiB; S3 needs 5MiB..5GiB, GCS rounds up to "
                 "256KiB)");
  app.add_option("--op-log", g.op_log,
                 "write one TSV line per storage operation to FILE "
                 "(zstd-compressed when FILE ends in .zst)");
  app.add_flag("--op-log-lossless", g.op_log_lossless,
               "never drop op-log records: wait for the writer when it falls behind");
  app.add_option("--memory-budget", g.memory_budget,
                 "most bytes of I/O buffers held at once: a size (4GiB), a share of memory "
                 "(25%) or off (default: OMNIO_MEMORY_BUDGET, else half of memory)");

  LsArgs ls;
  auto* c_ls = app.add_subcommand("ls", "list objects under a prefix (string-prefix semantics)");
  c_ls->add_option("uri", ls.uri, "URI or local path; a trailing '/' lists a directory")
      ->required();
  c_ls->add_flag("-r,--recursive", ls.recursive, "everything below, not just one level");
  c_ls->add_option("--glob", ls.glob,
                   "keep names matching this shell glob (relative to the prefix)");
  c_ls->add_flag("-l,--long", ls.long_format, "show sizes");
  c_ls->add_flag("--summary", ls.summary, "print 'Total objects: N' on stderr");

  std::string stat_uri;
  auto* c_stat = app.add_subcommand("stat", "show an object's metadata");
  c_stat->add_option("uri", stat_uri, "object URI or local path")->required();

  GetArgs get;
  auto* c_get =
      app.add_subcommand("get", "read an object to stdout, a file, or nowhere (--discard)");
  c_get->add_option("uri", get.uri,
                    "object URI (a prefix with -r, a trailing '/', or --discard -j)");
  c_get->add_option("dest", get.dest, "local path or URI; '-' or absent = stdout");
  c_get->add_option("--offset", get.offset, "first byte to read (e.g. 4096, 1MiB)");
  c_get->add_option("--length", get.length, "bytes to read (default: to the end)");
  c_get->add_flag("--discard", get.discard, "read and drop the data (benchmark)");
  c_get->add_flag("-r,--recursive", get.recursive, "every object under the prefix");
  auto* get_jobs = c_get->add_option(
      "-j,--jobs", get.jobs,
      "objects in parallel (default 32); with --discard, reads every object under the prefix");
  c_get->add_option("--keys-from,--keylist", get.keylist,
                    "with --discard: read the objects listed in FILE (ls --json lines, URIs, or "
                    "keys relative to URI) instead of listing (read benchmark)");
  c_get->add_flag("--dry-run", get.dry_run, "print what would be read, read nothing");

  PutArgs put;
  int zstd_level = 0;
  auto* c_put = app.add_subcommand("put", "write a local file or stdin ('-') to an object");
  c_put->add_option("src", put.src, "local file, URI, or '-' for stdin; with -n: the URI prefix")
      ->required();
  c_put->add_option("uri", put.uri, "destination URI (a trailing '/' keeps the source name)");
  c_put->add_option("-n,--count", put.count,
                    "write COUNT generated objects under the prefix (1000, 1k = 1000, 1Ki = 1024)");
  c_put->add_option("-s,--size", put.size, "with -n: payload bytes per object (4096, 8MiB, 1GB)");
  c_put->add_option("--template", put.name_template,
                    "with -n: object name, {} = index, {} = count (default object_{}_of_{}.EXT)");
  c_put->add_option("--format", put.format, "with -n: raw (default), npy, npz or tfrecord");
  c_put->add_option("--samples", put.samples,
                    "with -n: arrays (npz) or records (tfrecord) per object (default 1)");
  c_put->add_flag("--index", put.index,
                  "with -n --format tfrecord: also write DALI's <object>.idx");
  c_put->add_option("--dedup", put.dedup, "with -n: dedup ratio (default 1 = every block unique)");
  c_put->add_option("--compress", put.compress,
                    "with -n: zstd compression ratio 1-64 (default 1 = incompressible)");
  c_put->add_option("--seed", put.seed,
                    "with -n: seed for reproducible bytes (default: random, printed)");
  c_put->add_option("-j,--jobs", put.jobs, "with -n: objects in parallel (default 32, max 4096)");
  auto* zopt = c_put
                   ->add_option("--zstd", zstd_level,
                                "compress with zstd at this level (1-22); "
                                "the object gets a .zst suffix")
                   ->expected(0, 1)
                   ->default_str("3");
  c_put->add_option("--content-type", put.content_type, "Content-Type of the object");
  c_put->add_flag("--dry-run", put.dry_run, "print what would be uploaded, write nothing");

  CpArgs cp;
  auto* c_cp = app.add_subcommand("cp", "copy objects between any two stores");
  c_cp->add_option("src", cp.src, "source URI or local path")->required();
  c_cp->add_option("dst", cp.dst, "destination URI or local path")->required();
  c_cp->add_flag("-r,--recursive", cp.recursive,
                 "copy everything under SRC/ into DST/, keeping paths");
  c_cp->add_option("-j,--jobs", cp.jobs, "objects in parallel (default 32, max 4096)");
  c_cp->add_flag("--dry-run", cp.dry_run, "print what would be copied, copy nothing");
  c_cp->add_flag("--skip-existing,--resume", cp.skip_existing,
                 "skip objects already at the destination with equal size and checksum "
                 "(resumes an interrupted cp -r; docs/CLI.md says which checksum)");
  c_cp->add_flag("--size-only", cp.size_only, "with --skip-existing: compare sizes only");
  c_cp->add_option("--keys-from", cp.keys_from,
                   "copy the objects listed in FILE (ls --json lines, URIs under SRC, or keys "
                   "relative to SRC) instead of listing SRC; implies -r");

  RmArgs rm;
  auto* c_rm = app.add_subcommand("rm", "delete an object, or everything under a prefix (-r)");
  c_rm->add_option("uri", rm.uri, "object URI, or prefix with -r or --keys-from");
  c_rm->add_flag("-r,--recursive", rm.recursive, "delete every object under the prefix");
  c_rm->add_flag("--dry-run", rm.dry_run, "print what would be deleted, delete nothing");
  c_rm->add_option("--keys-from", rm.keys_from,
                   "delete the objects listed in FILE (ls --json lines, URIs, or keys relative "
                   "to URI)");

  std::string mb_uri, rb_uri;
  auto* c_mb = app.add_subcommand("mb", "make a container (bucket, directory)");
  c_mb->add_option("uri", mb_uri, "container URI")->required();
  auto* c_rb = app.add_subcommand("rb", "remove an empty container");
  c_rb->add_option("uri", rb_uri, "container URI")->required();

  ReplayArgs replay;
  auto* c_replay =
      app.add_subcommand("replay", "re-run the operations of an op-log with their timing");
  c_replay->add_option("log", replay.log, "op-log file (TSV, plain or .zst)")->required();
  c_replay->add_option("--target", replay.target,
                       "URI prefix that replaces the log's common prefix "
                       "(or --source)");
  c_replay->add_option("--source", replay.source,
                       "prefix of the logged URIs that --target replaces "
                       "(default: their longest common prefix up to a '/')");
  c_replay->add_option("--speed", replay.speed,
                       "time scale: 2 = twice as fast, 0.5 = half speed "
                       "(default 1; must be > 0)");
  c_replay->add_flag("--continue-on-error", replay.continue_on_error,
                     "count failures and go on (default: stop at the first)");
  c_replay->add_option("--ops", replay.ops, "replay only these ops, e.g. GET,PUT");
  c_replay->add_option("-j,--jobs", replay.jobs, "operations in flight (default 64)");
  c_replay->add_option("--seed", replay.seed,
                       "seed of the data generated for PUTs (default: random)");

  LoadArgs load;
  auto* c_load = app.add_subcommand(
      "load", "run the DataLoader over a data set and drop the data (loader benchmark)");
  c_load->add_option("uri", load.uri, "URI prefix or local directory: every object under it");
  c_load->add_option("--keys-from,--keylist", load.keylist,
                     "the objects listed in FILE instead of a listing (ls --json lines, URIs, or "
                     "keys relative to URI)");
  c_load->add_option("--batch-size", load.batch_size, "items per batch (default 32)");
  c_load->add_flag("--shuffle", load.shuffle, "seeded shuffle, a new order every epoch");
  c_load->add_option("--seed", load.seed, "with --shuffle: the seed (default 0)");
  c_load->add_option("--pool", load.pool, "item requests in flight (default 32)");
  c_load->add_flag("--fixed-pool", load.fixed_pool,
                   "keep all --pool requests reading even while reads are CPU-bound (by default, "
                   "page-cache reads run one worker per CPU)");
  c_load->add_option("--readahead", load.readahead,
                     "batches fetched ahead of the consumer (default 4)");
  c_load->add_option("--epochs", load.epochs, "epochs to run (default 1)");
  c_load->add_option("--rank", load.rank, "this process's rank (with --world)");
  c_load->add_option("--world", load.world, "number of ranks (with --rank)");
  c_load->add_option("--format", load.format,
                     "raw (default), npy, npz (arrays parsed) or tfrecord (one item per record, "
                     "read by index, CRCs verified)");
  c_load->add_option("--on-error", load.on_error,
                     "fail (default: stop at the first error), skip (report, go on) or deliver");
  c_load->add_option("--order", load.order,
                     "sampler (default: batches in sampler order) or completion");
  c_load->add_flag("--drop-last", load.drop_last, "leave out a last partial batch");
  c_load->add_option("--timeout-ms", load.timeout_ms,
                     "per-request timeout in ms, retried (default 60000; 0 = none)");

  DoctorCommands doctor;
  add_doctor_commands(app, doctor);

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
  if (!doctor.selected()) warn_suspicious_variables(g);  // doctor / config show report them
  if (!g.memory_budget.empty()) {
    auto limit = omnio::MemoryBudget::parse_limit(g.memory_budget);
    if (!limit.ok()) {
      fmt::print(stderr, "omnio: error: --memory-budget: {}\n", limit.error().to_string());
      return kExitUsage;
    }
    omnio::MemoryBudget::process().set_limit(*limit);
  }
  cli_config().s3.endpoint = g.endpoint_url;
  cli_config().s3.region = g.region;
  cli_config().s3.profile = g.profile;
  // A size flag that must be at least 1 byte; prints the usage error and returns nullopt if not.
  auto positive_size = [](const std::string& v, const char* flag,
                          const char* example) -> std::optional<std::size_t> {
    auto n = parse_size(v, flag);
    if (n.ok() && *n > 0) return static_cast<std::size_t>(*n);
    fmt::print(stderr, "omnio: error: {}\n",
               n.ok() ? fmt::format("{} must be at least 1 byte (e.g. {})", flag, example)
                      : n.error().to_string());
    return std::nullopt;
  };
  if (!g.range_chunk.empty()) {
    auto chunk = positive_size(g.range_chunk, "--range-chunk", "8MiB");
    if (!chunk) return kExitUsage;
    for (omnio::RangeEngineConfig* re :
         {&cli_config().s3.range_engine, &cli_config().azure.range_engine,
          &cli_config().gcs.range_engine}) {
      re->chunk_size = *chunk;
    }
  }
  if (g.max_ranges > 0) {
    for (omnio::RangeEngineConfig* re :
         {&cli_config().s3.range_engine, &cli_config().azure.range_engine,
          &cli_config().gcs.range_engine}) {
      re->max_concurrent_ranges = g.max_ranges;
    }
  }
  if (!g.part_size.empty()) {
    auto n = positive_size(g.part_size, "--part-size", "16MiB");
    if (!n) return kExitUsage;
    cli_config().s3.part_size = *n;
    cli_config().s3.multipart_threshold = *n;
    cli_config().azure.block_size = *n;
    cli_config().azure.single_put_threshold = *n;
    cli_config().gcs.upload_chunk_size = *n;
    cli_config().gcs.single_upload_threshold = *n;
  }
  get.jobs_given = get_jobs->count() > 0;
  cli_config().azure.endpoint = g.azure_endpoint;
  if (zopt->count() > 0)
    put.zstd = zopt->results().empty() || zopt->results()[0].empty() ? 3 : zstd_level;

  // --op-log wraps every store the command builds; it is finished even when the command fails.
  omnio::Status s = start_op_log(g);
  if (s.ok()) {
    if (*c_ls)
      s = cmd_ls(ls, g);
    else if (*c_stat)
      s = cmd_stat(stat_uri, g);
    else if (*c_get)
      s = cmd_get(get, g);
    else if (*c_put)
      s = cmd_put(put, g);
    else if (*c_cp)
      s = cmd_cp(cp, g);
    else if (*c_rm)
      s = cmd_rm(rm, g);
    else if (*c_mb)
      s = cmd_mb(mb_uri, g);
    else if (*c_rb)
      s = cmd_rb(rb_uri, g);
    else if (*c_replay)
      s = cmd_replay(replay, g);
    else if (*c_load)
      s = cmd_load(load, g);
    else if (doctor.selected())
      s = run_doctor_commands(doctor, g);
  }
  if (omnio::Status fs = finish_op_log(g); !fs.ok() && s.ok()) s = fs;
  log_memory_budget();

  if (s.ok()) return interrupt_token().is_cancelled() ? kExitInterrupted : kExitOk;
  std::fflush(stdout);
  if (interrupt_token().is_cancelled() && !g.json) {
    fmt::print(stderr, "omnio: interrupted: {}\n", s.error().to_string());
  } else {
    print_error(s.error(), g);
  }
  if (interrupt_token().is_cancelled()) return kExitInterrupted;
  if (partial_failure()) return kExitPartial;
  return s.error().code() == omnio::ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
}
