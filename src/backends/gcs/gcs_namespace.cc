// gs:// namespace operations: list (every page), deletes (concurrent, every failure reported),
// buckets, and server-side copy (rewrite, called until done).
#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>

#include "backends/gcs/gcs_store_impl.h"
#include "core/failures.h"
#include "http/encoding.h"
#include "omnio/log.h"

namespace omnio::gcs {
namespace {

// The firebase Storage emulator serves bucket listing and rewrite only under this legacy prefix
// (501 or 404 under /storage/v1): used as a fallback on custom endpoints.
constexpr const char* kEmulatorBuckets = "/b";

std::string bucket_path(const std::string& bucket) {
  return "/storage/v1/b/" + http::percent_encode(bucket);
}

Status need_bucket_uri(const Target& t, std::string_view uri) {
  if (t.key.empty()) return ok_status();
  return Error(ErrorCode::kInvalidArgument,
               fmt::format("'{}' is not a bucket URI (expected gs://bucket)", uri));
}

}  // namespace

Status GcsStore::list_stream(std::string_view prefix_uri, bool recursive, const ListSink& sink,
                             const CancellationToken& cancel) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(prefix_uri, false));
  // Objects come in name order, one page at a time, and are handed on as they arrive. Common
  // prefixes are per listing, not per page: a page may repeat earlier ones, and some servers (the
  // firebase emulator) send every prefix of the whole listing on every page. They wait in
  // `pending` until the objects pass them, and `emitted` drops repeats, so the output is sorted
  // and unique like list_entries(). Memory: one page plus the prefixes ("directories") of this
  // level; a recursive listing has none.
  std::set<std::string> pending, emitted;
  std::string last_object;
  auto flush_prefixes_before = [&](const std::string* bound) -> Status {
    while (!pending.empty() && (bound == nullptr || *pending.begin() <= *bound)) {
      auto node = pending.extract(pending.begin());
      OMNIO_TRY(check_listing_cancel(prefix_uri, cancel));
      OMNIO_TRY(sink(ListEntry{uri_of(t.bucket, node.value()), 0, true}));
      emitted.insert(std::move(node));
    }
    return ok_status();
  };
  std::string token;
  int pages = 0;
  do {
    Call c;
    c.path = bucket_path(t.bucket) + "/o";
    c.query = {{"prefix", t.key}, {"maxResults", std::to_string(kGcsListPageSize)}};
    if (!recursive) c.query.emplace_back("delimiter", "/");
    if (!token.empty()) c.query.emplace_back("pageToken", token);
    c.kind = Call::Kind::kList;
    c.cancel = cancel;
    c.what = fmt::format("LIST {} (page {})", prefix_uri, ++pages);
    const std::string what = c.what;
    OMNIO_ASSIGN_OR_RETURN(http::Response r, perform(std::move(c)));
    auto page = parse_list_page(r.body);
    if (!page.ok()) return page.error().wrap(what);
    for (auto& p : page->prefixes) {
      if (!emitted.contains(p)) pending.insert(std::move(p));
    }
    std::sort(page->items.begin(), page->items.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    for (auto& o : page->items) {
      if (!last_object.empty() && o.name <= last_object) {
        if (o.name == last_object) continue;  // repeated across a page boundary
        return Error(ErrorCode::kInternal,
                     fmt::format("{}: the server listed '{}' after '{}' (out of order): the "
                                 "listing cannot be streamed in order",
                                 what, o.name, last_object));
      }
      OMNIO_TRY(flush_prefixes_before(&o.name));
      if (emitted.contains(o.name)) continue;  // an object named like a prefix: listed once
      OMNIO_TRY(check_listing_cancel(prefix_uri, cancel));
      OMNIO_TRY(sink(ListEntry{uri_of(t.bucket, o.name), o.size, false}));
      last_object = o.name;
    }
    // Every page, until the service stops handing out tokens (the original stopped at 1,000).
    if (!page->next_page_token.empty() && page->next_page_token == token) {
      return Error(ErrorCode::kInternal,
                   fmt::format("{}: the server repeated page token '{}'", what, token));
    }
    token = page->next_page_token;
  } while (!token.empty());
  return flush_prefixes_before(nullptr);
}

Result<std::vector<ListEntry>> GcsStore::list_entries(std::string_view prefix_uri, bool recursive) {
  return collect_list_stream(prefix_uri, recursive);
}

Result<std::vector<std::string>> GcsStore::list_containers(std::string_view /*root_uri*/) {
  std::vector<std::string> out;
  std::string token;
  std::string path = "/storage/v1/b";
  for (;;) {
    Call c;
    c.path = path;
    c.query = {{"maxResults", std::to_string(kGcsListPageSize)}};
    if (!res_.project.empty()) c.query.emplace_back("project", res_.project);
    if (!token.empty()) c.query.emplace_back("pageToken", token);
    c.kind = Call::Kind::kList;
    c.what = "LIST gs:// (buckets)";
    auto resp = perform(std::move(c));
    if (!resp.ok() && res_.custom_endpoint && path != kEmulatorBuckets && out.empty() &&
        (resp.error().code() == ErrorCode::kNotFound ||
         resp.error().code() == ErrorCode::kUnimplemented)) {
      path = kEmulatorBuckets;  // the firebase emulator lists buckets at GET /b only
      continue;
    }
    OMNIO_ASSIGN_OR_RETURN(http::Response r, std::move(resp));
    auto page = parse_bucket_page(r.body);
    if (!page.ok()) return page.error().wrap("LIST gs://");
    for (auto& n : page->names) out.push_back("gs://" + n);
    token = page->next_page_token;
    if (token.empty()) break;
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status GcsStore::delete_object(std::string_view uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(uri, true));
  Call c;
  c.method = "DELETE";
  c.path = object_path(t);
  c.kind = Call::Kind::kDelete;
  c.what = "DELETE " + uri_of(t.bucket, t.key);
  OMNIO_TRY(perform(std::move(c)));
  return ok_status();
}

Result<std::uint64_t> GcsStore::delete_prefix(std::string_view prefix_uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(prefix_uri, false));
  const std::size_t strip = 6 + t.bucket.size();  // "gs://bucket/"
  // Deletes start as the listing streams (one page in memory, whatever the object count), at
  // most delete_concurrency at once.
  std::mutex mu;
  std::condition_variable cv;
  std::size_t inflight = 0, deleted = 0, gone = 0, keys = 0;
  std::vector<std::string> failed;  // "key (error)"
  Status listed = list_stream(prefix_uri, true, [&](ListEntry&& e) -> Status {
    if (e.is_dir) return ok_status();
    std::string key = e.uri.substr(strip);
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return inflight < cfg_.delete_concurrency; });
      ++inflight;
      ++keys;
    }
    Call c;
    c.method = "DELETE";
    c.path = object_path(Target{t.bucket, key});
    c.kind = Call::Kind::kDelete;
    c.what = "DELETE " + uri_of(t.bucket, key);
    submit(std::move(c), [&, key = std::move(key)](Result<http::Response> r) {
      std::lock_guard g(mu);
      if (r.ok()) {
        ++deleted;
      } else if (r.error().code() == ErrorCode::kNotFound) {
        ++gone;  // deleted by someone else since the listing: nothing remains, nothing to report
      } else {
        failed.push_back(fmt::format("{} ({})", key, r.error().to_string()));
      }
      --inflight;
      cv.notify_all();
    });
    return ok_status();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return inflight == 0; });  // the callbacks use this frame
  std::sort(failed.begin(), failed.end());
  if (!listed.ok()) {
    return listed.error().wrap(fmt::format(
        "delete_prefix {}: the listing failed after {} deletes ({} failed{}{})", prefix_uri,
        deleted, failed.size(), failed.empty() ? "" : ": ", name_failures(failed)));
  }
  if (gone > 0) log::debug("delete_prefix {}: {} objects were already gone", prefix_uri, gone);
  if (!failed.empty()) {
    const std::string names = name_failures(failed);
    return Error(ErrorCode::kUnavailable,
                 fmt::format("delete_prefix {}: {} of {} deletes failed ({} deleted): {}",
                             prefix_uri, failed.size(), keys, deleted, names));
  }
  return static_cast<std::uint64_t>(deleted);
}

Status GcsStore::create_container(std::string_view container_uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(container_uri, false));
  OMNIO_TRY(need_bucket_uri(t, container_uri));
  if (res_.project.empty() && !res_.custom_endpoint) {
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format(
            "creating gs://{} needs a project: set GOOGLE_CLOUD_PROJECT or GcsConfig::project",
            t.bucket));
  }
  std::string body = fmt::format("{{\"name\":\"{}\"}}", t.bucket);  // bucket names are [a-z0-9._-]
  Call c;
  c.method = "POST";
  c.path = "/storage/v1/b";
  if (!res_.project.empty()) c.query.emplace_back("project", res_.project);
  c.headers.emplace_back("Content-Type", "application/json");
  c.body = std::as_bytes(std::span<const char>(body.data(), body.size()));
  c.idempotent = false;
  c.what = "CREATE BUCKET gs://" + t.bucket;
  auto r = perform(std::move(c));
  if (!r.ok()) {
    if (r.error().code() == ErrorCode::kAlreadyExists) {
      // Ours if we can read it; a name taken by someone else stays an error.
      Call g;
      g.path = bucket_path(t.bucket);
      g.what = "GET BUCKET gs://" + t.bucket;
      if (perform(std::move(g)).ok()) return ok_status();
    }
    if (r.error().code() == ErrorCode::kUnimplemented) {
      return r.error().wrap(
          fmt::format("CREATE BUCKET gs://{}: the server cannot create buckets (the firebase "
                      "emulator creates them on the first upload)",
                      t.bucket));
    }
    return std::move(r).error();
  }
  return ok_status();
}

Status GcsStore::delete_container(std::string_view container_uri) {
  OMNIO_ASSIGN_OR_RETURN(Target t, target(container_uri, false));
  OMNIO_TRY(need_bucket_uri(t, container_uri));
  Call c;
  c.method = "DELETE";
  c.path = bucket_path(t.bucket);
  c.what = "DELETE BUCKET gs://" + t.bucket;
  auto r = perform(std::move(c));
  if (!r.ok() && r.error().http_status() == 409) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("DELETE BUCKET gs://{}: the bucket is not empty", t.bucket))
        .with_http_status(409)
        .with_cause(std::move(r).error());
  }
  OMNIO_TRY(std::move(r));
  return ok_status();
}

Status GcsStore::copy(std::string_view src_uri, std::string_view dst_uri) {
  OMNIO_ASSIGN_OR_RETURN(Target src, target(src_uri, true));
  OMNIO_ASSIGN_OR_RETURN(Target dst, target(dst_uri, true));
  const std::string what =
      fmt::format("COPY {} -> {}", uri_of(src.bucket, src.key), uri_of(dst.bucket, dst.key));
  std::string path = object_path(src) + "/rewriteTo/b/" + http::percent_encode(dst.bucket) + "/o/" +
                     http::percent_encode(dst.key);
  std::string token;
  bool legacy = false;
  for (int call = 1; call <= kGcsMaxRewriteCalls; ++call) {
    Call c;
    c.method = "POST";
    c.path = path;
    if (!token.empty()) c.query.emplace_back("rewriteToken", token);
    c.headers.emplace_back("Content-Type", "application/json");
    static constexpr char kEmpty[] = "{}";
    c.body = std::as_bytes(std::span<const char>(kEmpty, 2));
    c.what = fmt::format("{} (rewrite call {})", what, call);
    auto resp = perform(std::move(c));
    if (!resp.ok() && resp.error().code() == ErrorCode::kUnimplemented && res_.custom_endpoint &&
        !legacy) {
      legacy = true;  // the firebase emulator rewrites under /b/... only
      path = path.substr(std::string_view("/storage/v1").size());
      --call;
      continue;
    }
    OMNIO_ASSIGN_OR_RETURN(http::Response r, std::move(resp));
    auto st = parse_rewrite(r.body);
    if (!st.ok()) return st.error().wrap(what);
    if (st->done) return ok_status();
    if (st->rewrite_token.empty())
      return Error(ErrorCode::kInternal, what + ": not done and no rewriteToken");
    log::debug("{}: {} of {} bytes rewritten", what, st->bytes_rewritten, st->object_size);
    token = st->rewrite_token;
  }
  return Error(ErrorCode::kDeadlineExceeded,
               fmt::format("{}: not done after {} rewrite calls", what, kGcsMaxRewriteCalls));
}

}  // namespace omnio::gcs
