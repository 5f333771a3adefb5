#include "omnio/formats.h"

#include <fmt/format.h>
#include <isa-l/crc.h>

#include <algorithm>
#include <cstring>

#include "omnio/crc32c.h"

namespace omnio {
namespace {

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidArgument, "format: " + std::move(message));
}

void le16(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 2; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void le32(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void le64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// ---- zip (APPNOTE 6.3.x), stored entries only -------------------------------------------------
constexpr std::uint32_t kZipLocalSig = 0x04034b50;
constexpr std::uint32_t kZipCentralSig = 0x02014b50;
constexpr std::uint32_t kZip64EndSig = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::uint32_t kZipEndSig = 0x06054b50;
constexpr std::uint32_t kZip32Max = 0xffffffff;
constexpr std::uint16_t kZip16Max = 0xffff;
constexpr std::uint16_t kZipVersion = 20;    // 2.0: stored entries, directories
constexpr std::uint16_t kZip64Version = 45;  // 4.5: zip64 extensions
constexpr std::uint16_t kZipDosDate = 0x21;  // 1980-01-01, so equal inputs give equal archives
constexpr std::uint16_t kZip64ExtraId = 0x0001;

std::string npz_entry_name(std::uint64_t k) { return fmt::format("arr_{}.npy", k); }

std::string zip_local_header(const std::string& name, std::uint32_t crc, std::uint64_t size,
                             bool zip64) {
  std::string h;
  le32(h, kZipLocalSig);
  le16(h, zip64 ? kZip64Version : kZipVersion);
  le16(h, 0);  // flags: sizes and CRC are in this header (no data descriptor)
  le16(h, 0);  // stored
  le16(h, 0);  // time
  le16(h, kZipDosDate);
  le32(h, crc);
  le32(h, zip64 ? kZip32Max : size);  // compressed
  le32(h, zip64 ? kZip32Max : size);  // uncompressed
  le16(h, name.size());
  le16(h, zip64 ? 20 : 0);
  h += name;
  if (zip64) {
    le16(h, kZip64ExtraId);
    le16(h, 16);
    le64(h, size);  // uncompressed
    le64(h, size);  // compressed
  }
  return h;
}

std::string zip_central_header(const std::string& name, std::uint32_t crc, std::uint64_t size,
                               std::uint64_t local_offset, bool zip64) {
  std::string h;
  le32(h, kZipCentralSig);
  le16(h, zip64 ? kZip64Version : kZipVersion);  // made by (MS-DOS attributes)
  le16(h, zip64 ? kZip64Version : kZipVersion);  // needed
  le16(h, 0);
  le16(h, 0);
  le16(h, 0);
  le16(h, kZipDosDate);
  le32(h, crc);
  le32(h, zip64 ? kZip32Max : size);
  le32(h, zip64 ? kZip32Max : size);
  le16(h, name.size());
  le16(h, zip64 ? 28 : 0);
  le16(h, 0);  // comment
  le16(h, 0);  // disk
  le16(h, 0);  // internal attributes
  le32(h, 0);  // external attributes
  le32(h, zip64 ? kZip32Max : local_offset);
  h += name;
  if (zip64) {  // the fields set to 0xffffffff above, in APPNOTE order
    le16(h, kZip64ExtraId);
    le16(h, 24);
    le64(h, size);
    le64(h, size);
    le64(h, local_offset);
  }
  return h;
}

std::string zip_end(std::uint64_t entries, std::uint64_t cd_offset, std::uint64_t cd_size,
                    bool zip64) {
  std::string h;
  if (zip64) {
    const std::uint64_t end64_offset = cd_offset + cd_size;
    le32(h, kZip64EndSig);
    le64(h, 44);  // size of the rest of this record
    le16(h, kZip64Version);
    le16(h, kZip64Version);
    le32(h, 0);
    le32(h, 0);
    le64(h, entries);
    le64(h, entries);
    le64(h, cd_size);
    le64(h, cd_offset);
    le32(h, kZip64LocatorSig);
    le32(h, 0);
    le64(h, end64_offset);
    le32(h, 1);
  }
  le32(h, kZipEndSig);
  le16(h, 0);
  le16(h, 0);
  le16(h, zip64 ? kZip16Max : entries);
  le16(h, zip64 ? kZip16Max : entries);
  le32(h, zip64 ? kZip32Max : cd_size);
  le32(h, zip64 ? kZip32Max : cd_offset);
  le16(h, 0);  // comment
  return h;
}

std::string tfrecord_length_header(std::uint64_t length) {
  std::string h;
  le64(h, length);
  le32(h, mask_crc32c(crc32c(as_bytes(h))));
  return h;
}

std::string le32_string(std::uint32_t v) {
  std::string s;
  le32(s, v);
  return s;
}

}  // namespace

Result<ObjectFormat> parse_object_format(std::string_view name) {
  for (auto f :
       {ObjectFormat::kRaw, ObjectFormat::kNpy, ObjectFormat::kNpz, ObjectFormat::kTfRecord}) {
    if (name == object_format_name(f)) return f;
  }
  return invalid(fmt::format("unknown format '{}'; expected raw, npy, npz or tfrecord", name));
}

std::string_view object_format_name(ObjectFormat format) {
  switch (format) {
    case ObjectFormat::kRaw:
      return "raw";
    case ObjectFormat::kNpy:
      return "npy";
    case ObjectFormat::kNpz:
      return "npz";
    case ObjectFormat::kTfRecord:
      return "tfrecord";
  }
  return "raw";
}

std::string_view object_format_extension(ObjectFormat format) {
  switch (format) {
    case ObjectFormat::kRaw:
      return ".dat";
    case ObjectFormat::kNpy:
      return ".npy";
    case ObjectFormat::kNpz:
      return ".npz";
    case ObjectFormat::kTfRecord:
      return ".tfrecord";
  }
  return ".dat";
}

std::string npy_header(std::uint64_t payload) {
  std::string dict =
      fmt::format("{{'descr': '|u1', 'fortran_order': False, 'shape': ({},), }}", payload);
  // magic (6) + version (2) + header length (2) + dict + padding + '\n' is a multiple of 64.
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict.push_back('\n');
  std::string h("\x93NUMPY\x01\x00", 8);
  le16(h, dict.size());
  return h + dict;
}

std::uint32_t mask_crc32c(std::uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

std::uint32_t crc32_ieee_update(std::uint32_t crc, std::span<const std::byte> data) {
  return crc32_gzip_refl(crc, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

std::string tfrecord_index(std::span<const std::uint64_t> payload_sizes) {
  std::string out;
  std::uint64_t offset = 0;
  for (std::uint64_t n : payload_sizes) {
    const std::uint64_t record = n + kTfRecordFramingBytes;
    out += fmt::format("{} {}\n", offset, record);
    offset += record;
  }
  return out;
}

Result<FormattedGenerator> FormattedGenerator::create(const FormatOptions& format,
                                                      const DataGenOptions& payload) {
  OMNIO_TRY(payload.validate());
  if (format.samples == 0) return invalid("samples must be >= 1");
  if (format.samples > kMaxFormatSamples) {
    return invalid(fmt::format("samples must be <= {}", kMaxFormatSamples));
  }
  if ((format.format == ObjectFormat::kRaw || format.format == ObjectFormat::kNpy) &&
      format.samples != 1) {
    return invalid(
        fmt::format("{} holds one array: samples must be 1", object_format_name(format.format)));
  }
  FormattedGenerator g;
  g.format_ = format;
  g.payload_ = payload;
  if (!g.payload_.seed) g.payload_.seed = random_seed();  // fill() and fill_all() agree
  const std::uint64_t n = format.samples;
  for (std::uint64_t k = 0; k < n; ++k) {
    g.samples_.push_back(payload.size / n + (k < payload.size % n ? 1 : 0));
  }
  g.crcs_.assign(n, 0);
  g.crcs_known_ = format.format == ObjectFormat::kRaw || format.format == ObjectFormat::kNpy;
  g.lay_out();
  return g;
}

void FormattedGenerator::lay_out() {
  pieces_.clear();
  std::uint64_t at = 0, payload_at = 0;
  auto literal = [&](std::string s, std::int64_t trailer_of = -1) {
    Piece p;
    p.offset = at;
    p.length = s.size();
    p.literal = std::move(s);
    p.trailer_of = trailer_of;
    at += p.length;
    pieces_.push_back(std::move(p));
  };
  auto payload = [&](std::uint64_t length) {
    Piece p;
    p.offset = at;
    p.is_payload = true;
    p.payload_offset = payload_at;
    p.length = length;
    at += length;
    payload_at += length;
    pieces_.push_back(std::move(p));
  };
  switch (format_.format) {
    case ObjectFormat::kRaw:
      payload(samples_[0]);
      break;
    case ObjectFormat::kNpy:
      literal(npy_header(samples_[0]));
      payload(samples_[0]);
      break;
    case ObjectFormat::kTfRecord:
      for (std::size_t k = 0; k < samples_.size(); ++k) {
        literal(tfrecord_length_header(samples_[k]));
        payload(samples_[k]);
        literal(le32_string(mask_crc32c(crcs_[k])), static_cast<std::int64_t>(k));
      }
      break;
    case ObjectFormat::kNpz: {
      // zip64 only when a size, an offset or the entry count needs it: the layout without it
      // bounds every offset.
      std::uint64_t plain = 22;
      for (std::size_t k = 0; k < samples_.size(); ++k) {
        const auto name = npz_entry_name(k);
        plain += 30 + 46 + 2 * name.size() + npy_header(samples_[k]).size() + samples_[k];
      }
      const bool zip64 = format_.force_zip64 || plain >= kZip32Max || samples_.size() >= kZip16Max;
      std::vector<std::uint64_t> local_offsets;
      for (std::size_t k = 0; k < samples_.size(); ++k) {
        const auto name = npz_entry_name(k);
        const auto npy = npy_header(samples_[k]);
        local_offsets.push_back(at);
        literal(zip_local_header(name, crcs_[k], npy.size() + samples_[k], zip64) + npy);
        payload(samples_[k]);
      }
      const std::uint64_t cd_offset = at;
      std::string cd;
      for (std::size_t k = 0; k < samples_.size(); ++k) {
        cd += zip_central_header(npz_entry_name(k), crcs_[k],
                                 npy_header(samples_[k]).size() + samples_[k], local_offsets[k],
                                 zip64);
      }
      const std::uint64_t cd_size = cd.size();
      literal(std::move(cd) + zip_end(samples_.size(), cd_offset, cd_size, zip64));
      break;
    }
  }
  size_ = at;
}

std::string FormattedGenerator::index() const {
  return format_.format == ObjectFormat::kTfRecord ? tfrecord_index(samples_) : std::string();
}

Status FormattedGenerator::compute_crcs_in(std::span<const std::byte> object) {
  std::size_t k = 0;
  for (const auto& p : pieces_) {
    if (!p.is_payload) continue;
    const auto data = object.subspan(p.offset, p.length);
    crcs_[k] = format_.format == ObjectFormat::kNpz
                   ? crc32_ieee_update(crc32_ieee_update(0, as_bytes(npy_header(p.length))), data)
                   : crc32c(data);
    ++k;
  }
  crcs_known_ = true;
  return ok_status();
}

Status FormattedGenerator::compute_crcs_streaming() {
  OMNIO_ASSIGN_OR_RETURN(auto gen, DataGenerator::create(payload_));
  const std::uint64_t largest = *std::max_element(samples_.begin(), samples_.end());
  std::vector<std::byte> scratch(
      static_cast<std::size_t>(std::min<std::uint64_t>(largest, kFormatScratchSize)));
  for (std::size_t k = 0; k < samples_.size(); ++k) {
    std::uint32_t crc = format_.format == ObjectFormat::kNpz
                            ? crc32_ieee_update(0, as_bytes(npy_header(samples_[k])))
                            : 0;
    for (std::uint64_t left = samples_[k]; left > 0;) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, scratch.size()));
      OMNIO_TRY(gen.fill(std::span(scratch).first(n)));
      const auto chunk = std::span<const std::byte>(scratch).first(n);
      crc = format_.format == ObjectFormat::kNpz ? crc32_ieee_update(crc, chunk)
                                                 : crc32c_update(crc, chunk);
      left -= n;
    }
    crcs_[k] = crc;
  }
  crcs_known_ = true;
  return ok_status();
}

Status FormattedGenerator::fill_all(std::span<std::byte> dest) {
  if (dest.size() != size_) {
    return invalid(
        fmt::format("destination holds {} bytes but the object is {}", dest.size(), size_));
  }
  OMNIO_ASSIGN_OR_RETURN(auto gen, DataGenerator::create(payload_));
  for (const auto& p : pieces_) {
    if (p.is_payload) OMNIO_TRY(gen.fill(dest.subspan(p.offset, p.length)));
  }
  if (!crcs_known_) {
    OMNIO_TRY(compute_crcs_in(dest));
    lay_out();
  }
  for (const auto& p : pieces_) {
    if (!p.is_payload) std::memcpy(dest.data() + p.offset, p.literal.data(), p.literal.size());
  }
  return ok_status();
}

Result<std::size_t> FormattedGenerator::fill(std::span<std::byte> dest) {
  if (!crcs_known_ && format_.format == ObjectFormat::kNpz) {
    OMNIO_TRY(compute_crcs_streaming());
    lay_out();
  }
  if (!stream_) {
    OMNIO_ASSIGN_OR_RETURN(auto gen, DataGenerator::create(payload_));
    stream_.emplace(std::move(gen));
  }
  std::size_t done = 0;
  while (done < dest.size() && piece_ < pieces_.size()) {
    Piece& p = pieces_[piece_];
    const std::uint64_t in_piece = position_ - p.offset;
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>(p.length - in_piece, dest.size() - done));
    auto out = dest.subspan(done, n);
    if (p.is_payload) {
      OMNIO_TRY(stream_->fill(out));
      // TFRecord: the record's CRC follows its data, so it is computed as the data streams by.
      if (format_.format == ObjectFormat::kTfRecord) {
        running_crc_ = crc32c_update(in_piece == 0 ? 0 : running_crc_, out);
      }
    } else {
      if (p.trailer_of >= 0 && in_piece == 0) {
        crcs_[static_cast<std::size_t>(p.trailer_of)] = running_crc_;
        p.literal = le32_string(mask_crc32c(running_crc_));
      }
      std::memcpy(out.data(), p.literal.data() + in_piece, n);
    }
    done += n;
    position_ += n;
    if (position_ == p.offset + p.length) ++piece_;
  }
  return done;
}

}  // namespace omnio
