// omnio::Uri: the five URI forms omnio understands, parsed once with clear errors.
//   file:///abs/path   direct:///abs/path   s3://bucket/key
//   az://account/container/key  (or https://account.blob.core.windows.net/container/key)
//   gs://bucket/key  (gcs://bucket/key is an alias; rendered back as gs://)
// Keys are literal: no percent-decoding, so "a%20b" names the key with those five characters.
#pragma once

#include <string>
#include <string_view>

#include "omnio/result.h"

namespace omnio {

enum class Scheme { kFile, kDirect, kS3, kAzure, kGcs };

/// "file", "direct", "s3", "az", "gs".
std::string_view scheme_name(Scheme s);

/// A parsed URI. Which fields are set depends on the scheme (see each field).
struct Uri {
  Scheme scheme = Scheme::kFile;
  /// file:// and direct://: the absolute, normalised path ("/data/x"). Empty for object stores.
  std::string path;
  /// az:// only: the storage account.
  std::string account;
  /// s3:// and gs://: the bucket; az://: the container.
  std::string bucket;
  /// The object key (may be empty: the bucket root or a prefix). No leading '/' is stripped.
  std::string key;
  /// https:// Azure form: the endpoint host it was given with ("acct.blob.core.windows.net").
  std::string host;

  /// Parses any supported form. Errors are kInvalidArgument naming the expected form.
  static Result<Uri> parse(std::string_view text);

  /// The canonical text form (gcs:// becomes gs://, the https Azure form becomes az://).
  std::string to_string() const;
  /// This URI with its key (or path) replaced.
  Uri with_key(std::string new_key) const;
  /// True for file:// and direct://.
  bool is_local() const { return scheme == Scheme::kFile || scheme == Scheme::kDirect; }
  /// The key for object stores, the path for local stores.
  const std::string& object_name() const { return is_local() ? path : key; }

  friend bool operator==(const Uri&, const Uri&) = default;
};

/// Returns the scheme of `text` without a full parse ("s3" for "s3://..."), or kInvalidArgument
/// listing the known schemes.
Result<Scheme> scheme_of(std::string_view text);

}  // namespace omnio
