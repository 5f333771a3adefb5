// already_copied: the resume check of cp -r --skip-existing (size, then a content checksum that
// both sides can produce cheaply).
#include <fmt/format.h>
#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>

#include "omnio/crc32c.h"
#include "omnio/transfer.h"

namespace omnio {
namespace {

bool is_local(const ObjectStore& s) { return s.scheme() == "file" || s.scheme() == "direct"; }

// An S3 ETag that is a content MD5: 32 hex digits, or 32 hex digits + "-N" for a multipart upload.
struct Md5Etag {
  std::string hex;
  std::optional<std::uint64_t> parts;
};

std::optional<Md5Etag> parse_md5_etag(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  Md5Etag e;
  const auto dash = etag.find('-');
  e.hex = etag.substr(0, dash);
  if (e.hex.size() != 32 || e.hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    return std::nullopt;
  if (dash != std::string::npos) {
    const std::string n = etag.substr(dash + 1);
    if (n.empty() || n.size() > 5 || n.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    e.parts = std::stoull(n);
  }
  for (auto& c : e.hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

MdCtx new_md5() {
  MdCtx c(EVP_MD_CTX_new());
  EVP_DigestInit_ex(c.get(), EVP_md5(), nullptr);
  return c;
}

std::string hex_of(const unsigned char* d, unsigned n) {
  std::string s;
  for (unsigned i = 0; i < n; ++i) s += fmt::format("{:02x}", d[i]);
  return s;
}

// The local object's MD5 in the shape of an S3 ETag: whole-object MD5 when parts is empty,
// else MD5 over the binary MD5s of `part_size` pieces.
Result<std::string> local_md5_etag(ObjectStore& store, std::string_view uri,
                                   std::optional<std::uint64_t> parts, std::size_t part_size,
                                   const CancellationToken& cancel) {
  MdCtx whole = new_md5(), part = new_md5(), of_parts = new_md5();
  std::uint64_t in_part = 0;
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  auto close_part = [&] {
    EVP_DigestFinal_ex(part.get(), d, &n);
    EVP_DigestUpdate(of_parts.get(), d, n);
    part = new_md5();
    in_part = 0;
  };
  ReadOptions ro;
  ro.cancel = cancel;
  OMNIO_TRY(store.get_to_sink(
      uri,
      [&](std::uint64_t, Bytes chunk) -> Status {
        std::span<const std::byte> rest = chunk.span();
        if (!parts) {
          EVP_DigestUpdate(whole.get(), rest.data(), rest.size());
          return ok_status();
        }
        while (!rest.empty()) {
          const std::size_t take =
              static_cast<std::size_t>(std::min<std::uint64_t>(rest.size(), part_size - in_part));
          EVP_DigestUpdate(part.get(), rest.data(), take);
          in_part += take;
          rest = rest.subspan(take);
          if (in_part == part_size) close_part();
        }
        return ok_status();
      },
      ro));
  if (!parts) {
    EVP_DigestFinal_ex(whole.get(), d, &n);
    return hex_of(d, n);
  }
  if (in_part > 0) close_part();
  EVP_DigestFinal_ex(of_parts.get(), d, &n);
  return hex_of(d, n);
}

Result<std::uint32_t> crc_of(ObjectStore& store, std::string_view uri,
                             const CancellationToken& cancel) {
  std::uint32_t crc = 0;
  ReadOptions ro;
  ro.cancel = cancel;
  OMNIO_TRY(store.get_to_sink(
      uri,
      [&](std::uint64_t, Bytes chunk) {
        crc = crc32c_update(crc, chunk.span());
        return ok_status();
      },
      ro));
  return crc;
}

}  // namespace

Result<SkipVerdict> already_copied(ObjectStore& src, std::string_view src_uri, ObjectStore& dst,
                                   std::string_view dst_uri, SkipPolicy policy,
                                   std::size_t s3_part_size, const CancellationToken& cancel) {
  auto dm = dst.stat(dst_uri);
  if (!dm.ok()) {
    if (dm.error().code() == ErrorCode::kNotFound) return SkipVerdict{false, false, "missing"};
    return std::move(dm).error().wrap(fmt::format("check {}", dst_uri));
  }
  OMNIO_ASSIGN_OR_RETURN(ObjectMetadata sm, src.stat(src_uri));
  if (sm.size != dm->size) return SkipVerdict{false, false, "size differs"};
  if (policy == SkipPolicy::kSizeOnly) return SkipVerdict{true, false, "size equal"};

  if (is_local(src) && is_local(dst)) {
    OMNIO_ASSIGN_OR_RETURN(std::uint32_t a, crc_of(src, src_uri, cancel));
    OMNIO_ASSIGN_OR_RETURN(std::uint32_t b, crc_of(dst, dst_uri, cancel));
    if (a == b) return SkipVerdict{true, false, "size and crc32c equal"};
    return SkipVerdict{false, false, "size equal, crc32c differs"};
  }
  const bool src_s3 = src.scheme() == "s3", dst_s3 = dst.scheme() == "s3";
  if (src_s3 && dst_s3) {
    if (!sm.etag.empty() && sm.etag == dm->etag)
      return SkipVerdict{true, false, "size and ETag equal"};
    return SkipVerdict{false, false, "size equal, ETags differ"};
  }
  if ((src_s3 && is_local(dst)) || (dst_s3 && is_local(src))) {
    ObjectStore& local = is_local(src) ? src : dst;
    const std::string_view local_uri = is_local(src) ? src_uri : dst_uri;
    const auto etag = parse_md5_etag(src_s3 ? sm.etag : dm->etag);
    const bool parts_match =
        etag && (!etag->parts ||
                 (s3_part_size > 0 && (sm.size + s3_part_size - 1) / s3_part_size == *etag->parts));
    if (parts_match) {
      OMNIO_ASSIGN_OR_RETURN(std::string md5,
                             local_md5_etag(local, local_uri, etag->parts, s3_part_size, cancel));
      if (md5 == etag->hex) return SkipVerdict{true, false, "size and MD5 ETag equal"};
      return SkipVerdict{false, false, "size equal, MD5 ETag differs"};
    }
  }
  return SkipVerdict{false, true, "size equal, no comparable checksum"};
}

}  // namespace omnio
