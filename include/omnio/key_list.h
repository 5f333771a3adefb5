// Key lists (manifests): the objects of a data set written down once, so that commands and loaders
// over 10^7+ objects need no listing per epoch. `omnio ls -r --json PREFIX > keys.jsonl` writes
// one; every command that takes a prefix also takes `--keys-from FILE`.
//
// Accepted, line by line (formats may be mixed):
//   {"uri":"s3://b/train/a.npz","size":123,"is_dir":false}   JSON Lines as `ls --json` writes them
//   {"key":"a.npz"}                                          a key relative to the base prefix
//   s3://b/train/a.npz                                       a URI
//   /data/train/a.npz                                        an absolute local path (file://)
//   a.npz                                                    a key relative to the base prefix
// Blank lines and lines starting with '#' are skipped; directory entries ("is_dir":true, or a URI
// ending in '/') are skipped. Errors are kInvalidArgument naming the file and line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "omnio/result.h"

namespace omnio {

/// One object of a key list.
struct KeyListEntry {
  /// Full URI (relative keys joined to the base prefix).
  std::string uri;
  /// The size the list records (ls --json writes it); nullopt for plain lines.
  std::optional<std::uint64_t> size;
};

/// Parses one line; nullopt for a blank, comment or directory line. `base` is the prefix URI that
/// relative keys are appended to (string concatenation, so end it in '/' for a directory); empty =
/// relative keys are an error. `name` and `line_no` only label errors ("keys.jsonl line 3: ...").
Result<std::optional<KeyListEntry>> parse_key_list_line(std::string_view line,
                                                        std::string_view base,
                                                        std::string_view name,
                                                        std::uint64_t line_no);

/// Reads a key list one entry at a time with memory independent of its length (for streaming
/// cp -r / rm -r over 10^7 keys). "-" reads standard input.
class KeyListReader {
 public:
  /// Opens `path`; kNotFound naming the file if it cannot be opened.
  static Result<KeyListReader> open(const std::string& path, std::string base = {});
  KeyListReader(KeyListReader&&) noexcept = default;
  KeyListReader& operator=(KeyListReader&&) noexcept = default;
  ~KeyListReader();
  /// The next entry, nullopt at the end; an error names the file and line (the reader stops).
  Result<std::optional<KeyListEntry>> next();
  /// Lines read so far.
  std::uint64_t line() const { return line_no_; }

 private:
  KeyListReader() = default;
  struct Closer {
    void operator()(std::FILE* f) const;
  };
  std::unique_ptr<std::FILE, Closer> file_;
  std::string path_, base_, buf_;
  std::uint64_t line_no_ = 0;
};

/// The whole key list in memory (the loader needs random access). kInvalidArgument if it lists
/// no objects.
Result<std::vector<KeyListEntry>> read_key_list(const std::string& path, std::string base = {});

/// The same for text already in memory; `name` labels errors.
Result<std::vector<KeyListEntry>> parse_key_list(std::string_view text, std::string_view name,
                                                 std::string_view base = {});

}  // namespace omnio
