// StreamWriter: the one ObjectWriter implementation. It counts bytes, keeps the CRC32C of the
// uncompressed stream, optionally zstd-compresses, and hands the (compressed) bytes to a backend's
// RawSink, which only has to append bytes and commit or abort.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "omnio/object_store.h"

namespace omnio {

/// What a backend implements for streaming writes.
class RawSink {
 public:
  virtual ~RawSink() = default;
  /// Appends bytes (already compressed when compression is on).
  virtual Status append(std::span<const std::byte> data) = 0;
  /// Makes the object visible atomically. Called once.
  virtual Status commit() = 0;
  /// Discards everything written. Called at most once, never after a successful commit().
  virtual Status abort() = 0;
  /// Positional writes (ObjectWriter::write_at): supported by sinks that can write anywhere.
  virtual bool positional() const { return false; }
  /// Thread-safe; any order.
  virtual Status write_at(std::uint64_t, std::span<const std::byte>) {
    return Error(ErrorCode::kUnimplemented, "this sink cannot write at offsets");
  }
  /// The final length of a positionally written object.
  virtual Status set_size(std::uint64_t) {
    return Error(ErrorCode::kUnimplemented, "this sink cannot write at offsets");
  }
};

/// Opens the backend's sink for the final object URI (which already carries ".zst" if compressing).
using RawSinkOpener = std::function<Result<std::unique_ptr<RawSink>>(const std::string& uri)>;

/// Builds a writer: validates the zstd level, derives the final URI (".zst" appended once when
/// compressing), opens the sink. kInvalidArgument for a level outside [1, 22].
Result<std::unique_ptr<ObjectWriter>> make_stream_writer(std::string uri, const WriterOptions& opts,
                                                         const RawSinkOpener& open);

}  // namespace omnio
