// Default implementations shared by every ObjectStore.
#include "omnio/object_store.h"

#include <fmt/format.h>

#include "core/failures.h"
#include "omnio/constants.h"
#include "omnio/crc32c.h"
#include "omnio/transfer.h"

namespace omnio {

std::string ObjectWriter::checksum() const { return format_crc32c(crc32c()); }

Status ObjectWriter::write_at(std::uint64_t, std::span<const std::byte>) {
  return Error(ErrorCode::kUnimplemented,
               fmt::format("{}: this writer cannot write at offsets", uri()));
}

Status ObjectWriter::set_size(std::uint64_t) {
  return Error(ErrorCode::kUnimplemented,
               fmt::format("{}: this writer cannot write at offsets", uri()));
}

Status ObjectStore::get_to_sink(std::string_view uri, const ChunkSink& sink,
                                const ReadOptions& opts) {
  OMNIO_ASSIGN_OR_RETURN(Bytes data, get(uri, opts));
  return sink(0, std::move(data));
}

Result<std::uint64_t> ObjectStore::get_positional(std::string_view uri,
                                                  const PositionalWriter& writer,
                                                  const ReadOptions& opts) {
  std::uint64_t total = 0;
  OMNIO_TRY(get_to_sink(
      uri,
      [&](std::uint64_t offset, Bytes chunk) {
        total = offset + chunk.size();
        return writer(offset, chunk.span());
      },
      opts));
  return total;
}

Status ObjectStore::put_multipart(std::string_view uri, const Bytes& data,
                                  std::optional<std::size_t> /*part_size*/,
                                  const PutOptions& opts) {
  return put(uri, data, opts);
}

Result<std::vector<std::string>> ObjectStore::list(std::string_view prefix_uri, bool recursive) {
  OMNIO_ASSIGN_OR_RETURN(auto entries, list_entries(prefix_uri, recursive));
  std::vector<std::string> out;
  out.reserve(entries.size());
  for (auto& e : entries) out.push_back(std::move(e.uri));
  return out;
}

Status ObjectStore::check_listing_cancel(std::string_view prefix_uri,
                                         const CancellationToken& cancel) {
  if (!cancel.is_cancelled()) return ok_status();
  return Error(ErrorCode::kCancelled, fmt::format("LIST {}: cancelled", prefix_uri));
}

Status ObjectStore::list_stream(std::string_view prefix_uri, bool recursive, const ListSink& sink,
                                const CancellationToken& cancel) {
  // list_entries() takes no token: the cancel is seen before it and between the entries.
  OMNIO_TRY(check_listing_cancel(prefix_uri, cancel));
  OMNIO_ASSIGN_OR_RETURN(auto entries, list_entries(prefix_uri, recursive));
  for (auto& e : entries) {
    OMNIO_TRY(check_listing_cancel(prefix_uri, cancel));
    OMNIO_TRY(sink(std::move(e)));
  }
  return ok_status();
}

Status ObjectStore::list_keys_stream(std::string_view prefix_uri, bool recursive,
                                     const ListSink& sink, const CancellationToken& cancel) {
  return list_stream(prefix_uri, recursive, sink, cancel);
}

Result<Bytes> ObjectStore::get_with_buffer(std::string_view uri, const BufferSource& /*buffer_for*/,
                                           const ReadOptions& opts) {
  return get(uri, opts);
}

void ObjectStore::get_batch(std::span<BatchRead> reads, const ReadOptions& opts) {
  for (BatchRead& r : reads) {
    r.result =
        opts.cancel.is_cancelled()
            ? Result<Bytes>(Error(ErrorCode::kCancelled, fmt::format("read {}: cancelled", r.uri)))
            : get_with_buffer(r.uri, r.buffer_for, opts);
  }
}

Result<std::vector<ListEntry>> ObjectStore::collect_list_stream(std::string_view prefix_uri,
                                                                bool recursive) {
  std::vector<ListEntry> out;
  OMNIO_TRY(list_stream(prefix_uri, recursive, [&](ListEntry&& e) {
    out.push_back(std::move(e));
    return ok_status();
  }));
  return out;
}

BatchReport ObjectStore::delete_objects(const std::vector<std::string>& uris,
                                        const CancellationToken& cancel) {
  return run_parallel(
      uris.size(), kDefaultDeleteObjectsJobs, cancel, [&](std::size_t i) { return uris[i]; },
      [&](std::size_t i) { return delete_object(uris[i]); });
}

Result<BatchReport> ObjectStore::delete_prefix_report(std::string_view prefix_uri,
                                                      const CancellationToken& cancel) {
  BatchReport report;
  std::vector<std::string> page;
  auto flush = [&] {
    report.merge(delete_objects(page, cancel));
    page.clear();
  };
  Status listed = list_stream(
      prefix_uri, /*recursive=*/true,
      [&](ListEntry&& e) -> Status {
        if (cancel.is_cancelled()) return Error(ErrorCode::kCancelled, "delete: cancelled");
        if (e.is_dir) return ok_status();
        page.push_back(std::move(e.uri));
        if (page.size() >= kDeletePageSize) flush();
        return ok_status();
      },
      cancel);
  if (!listed.ok() && !cancel.is_cancelled()) return std::move(listed).error();
  if (!cancel.is_cancelled()) flush();
  if (cancel.is_cancelled() && (!page.empty() || !listed.ok())) {
    // What was listed but not deleted, and the rest of the listing, are left as they are.
    report.failures.emplace_back(fmt::format("{} (the rest)", prefix_uri),
                                 Error(ErrorCode::kCancelled, "not deleted: cancelled"));
  }
  return report;
}

Result<bool> ObjectStore::exists(std::string_view uri) {
  auto st = stat(uri);
  if (st.ok()) return true;
  if (st.error().code() == ErrorCode::kNotFound) return false;
  return std::move(st).error();
}

Result<std::uint64_t> ObjectStore::delete_prefix(std::string_view prefix_uri) {
  OMNIO_ASSIGN_OR_RETURN(auto entries, list_entries(prefix_uri, /*recursive=*/true));
  std::uint64_t deleted = 0;
  std::vector<std::string> failures;
  Error first;
  for (const auto& e : entries) {
    if (e.is_dir) continue;
    Status s = delete_object(e.uri);
    if (s.ok()) {
      ++deleted;
    } else {
      if (failures.empty()) first = s.error();
      failures.push_back(e.uri);
    }
  }
  if (!failures.empty()) {
    const std::string names = name_failures(failures, ", ");
    return first.wrap(fmt::format("delete_prefix {}: {} of {} deletes failed ({} deleted): {}",
                                  prefix_uri, failures.size(), deleted + failures.size(), deleted,
                                  names));
  }
  return deleted;
}

Result<std::vector<std::string>> ObjectStore::list_containers(std::string_view root_uri) {
  return Error(ErrorCode::kUnimplemented,
               fmt::format("listing containers is not supported for {}", root_uri));
}

Status ObjectStore::copy(std::string_view src_uri, std::string_view dst_uri) {
  OMNIO_ASSIGN_OR_RETURN(Bytes data, get(src_uri));
  return put(dst_uri, data);
}

Status ObjectStore::rename(std::string_view src_uri, std::string_view dst_uri) {
  OMNIO_TRY(copy(src_uri, dst_uri));
  return delete_object(src_uri);
}

}  // namespace omnio
