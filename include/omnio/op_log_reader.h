// Reads an op-log (op_log.h) line by line with bounded memory: plain TSV or zstd (detected from the
// content, not the name). The header maps columns by name (case-insensitive; "operation" is an
// alias of "op"), so logs from warp with extra or reordered columns read too. Blank lines and lines
// starting with '#' are skipped; the omnio trailer is parsed.
//
// JSON Lines logs (s3dlio's other format) are read too, detected from the content: when the first
// line that is not blank or '#' starts with '{', every line is one JSON object whose keys are the
// TSV column names (same aliases); numbers may be JSON numbers or decimal strings, times are
// RFC 3339 strings, and there is no header line.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "omnio/result.h"

namespace omnio {

/// One parsed line.
struct OpLogEntry {
  /// 1-based line number in the (decompressed) file.
  std::uint64_t line = 0;
  std::uint64_t idx = 0;
  std::string op;
  std::string endpoint;
  std::string file;
  std::uint64_t n_objects = 1;
  std::uint64_t bytes = 0;
  /// Empty when the operation succeeded.
  std::string error;
  /// Unix nanoseconds.
  std::int64_t start_ns = 0;
  std::optional<std::int64_t> first_byte_ns;
  std::optional<std::int64_t> end_ns;
  std::optional<std::int64_t> duration_ns;

  /// endpoint + file: the URI of the operation.
  std::string uri() const { return endpoint + file; }
};

/// What the omnio trailer line says ("# omnio-op-log records=N dropped=D").
struct OpLogTrailer {
  std::uint64_t records = 0;
  std::uint64_t dropped = 0;
};

/// Streaming reader. Not thread-safe.
class OpLogReader {
 public:
  /// Opens the file and reads the header. kNotFound for a missing file; kInvalidArgument when the
  /// header lacks a required column (op, endpoint, file, start).
  static Result<OpLogReader> open(const std::string& path);

  OpLogReader(OpLogReader&&) noexcept;
  OpLogReader& operator=(OpLogReader&&) noexcept;
  ~OpLogReader();

  /// The next entry; nullopt at the end. kInvalidArgument "op-log PATH line N: ..." for a malformed
  /// line; kDataLoss for a truncated or corrupt zstd frame.
  Result<std::optional<OpLogEntry>> next();

  /// The trailer, once next() has returned nullopt and the log had one (absent: not closed).
  const std::optional<OpLogTrailer>& trailer() const;

 private:
  struct Impl;
  explicit OpLogReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace omnio
