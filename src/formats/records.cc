// Readers of record formats: .npy, .npz (stored and deflated entries) and TFRecord with its
// indexes. See omnio/records.h for what is verified.
#include "omnio/records.h"

#include <fmt/format.h>
#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <memory>

#include "omnio/crc32c.h"
#include "omnio/formats.h"

namespace omnio {

namespace {

std::uint64_t load_le(const std::byte* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}

Error corrupt(std::string_view name, std::uint64_t offset, std::string what) {
  return Error(ErrorCode::kDataLoss, fmt::format("{}: at byte offset {}: {}", name, offset, what));
}

// ---- npy header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }

struct NpyDict {
  std::string descr;
  bool fortran = false;
  std::vector<std::uint64_t> shape;
};

std::size_t skip_ws(std::string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

// The value text after 'key': (position of its first character), or npos.
std::size_t value_of(std::string_view dict, std::string_view key) {
  for (char q : {'\'', '"'}) {
    std::string k = fmt::format("{}{}{}", q, key, q);
    std::size_t p = dict.find(k);
    if (p == std::string_view::npos) continue;
    p = skip_ws(dict, p + k.size());
    if (p >= dict.size() || dict[p] != ':') return std::string_view::npos;
    return skip_ws(dict, p + 1);
  }
  return std::string_view::npos;
}

Result<NpyDict> parse_npy_dict(std::string_view dict, std::string_view name, std::uint64_t offset) {
  const auto bad = [&](std::string what) {
    return corrupt(name, offset,
                   fmt::format("npy header {} (expected {{'descr': ..., 'fortran_order': ..., "
                               "'shape': (...)}}); header is \"{}\"",
                               what, dict.substr(0, 200)));
  };
  NpyDict d;
  std::size_t p = value_of(dict, "descr");
  if (p == std::string_view::npos) return bad("has no 'descr'");
  if (dict[p] == '[') {
    return Error(ErrorCode::kUnimplemented,
                 fmt::format("{}: structured dtype {} is not supported (simple dtypes only)", name,
                             dict.substr(p, 80)));
  }
  if (dict[p] != '\'' && dict[p] != '"') return bad("'descr' is not a string");
  std::size_t e = dict.find(dict[p], p + 1);
  if (e == std::string_view::npos) return bad("'descr' is not terminated");
  d.descr = std::string(dict.substr(p + 1, e - p - 1));

  p = value_of(dict, "fortran_order");
  if (p == std::string_view::npos) return bad("has no 'fortran_order'");
  if (dict.substr(p, 4) == "True") {
    d.fortran = true;
  } else if (dict.substr(p, 5) != "False") {
    return bad("'fortran_order' is neither True nor False");
  }

  p = value_of(dict, "shape");
  if (p == std::string_view::npos) return bad("has no 'shape'");
  if (dict[p] != '(') return bad("'shape' is not a tuple");
  ++p;
  while (true) {
    p = skip_ws(dict, p);
    if (p >= dict.size()) return bad("'shape' is not terminated");
    if (dict[p] == ')') break;
    std::uint64_t v = 0;
    auto [q, ec] = std::from_chars(dict.data() + p, dict.data() + dict.size(), v);
    if (ec != std::errc()) return bad("'shape' holds something other than whole numbers");
    d.shape.push_back(v);
    p = static_cast<std::size_t>(q - dict.data());
    if (p < dict.size() && dict[p] == 'L') ++p;  // Python 2 longs
    p = skip_ws(dict, p);
    if (p < dict.size() && dict[p] == ',') ++p;
  }
  return d;
}

// Bytes per element of a simple dtype string: [<>|=]? kind count ([unit] for datetimes).
Result<std::size_t> dtype_item_size(std::string_view descr, std::string_view name) {
  std::string_view s = descr;
  if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) s.remove_prefix(1);
  if (s.empty()) {
    return Error(ErrorCode::kDataLoss, fmt::format("{}: empty npy dtype '{}'", name, descr));
  }
  const char kind = s[0];
  if (kind == 'O') {
    return Error(ErrorCode::kUnimplemented,
                 fmt::format("{}: npy dtype '{}' holds Python objects (pickles); not supported",
                             name, descr));
  }
  if (std::string_view("biufcmMSUV?").find(kind) == std::string_view::npos) {
    return Error(
        ErrorCode::kDataLoss,
        fmt::format("{}: unknown npy dtype '{}' (expected e.g. '<f4', '|u1')", name, descr));
  }
  s.remove_prefix(1);
  std::size_t n = 1;
  if (!s.empty() && s[0] != '[') {
    auto [q, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc()) {
      return Error(ErrorCode::kDataLoss, fmt::format("{}: bad npy dtype '{}'", name, descr));
    }
    s.remove_prefix(static_cast<std::size_t>(q - s.data()));
  } else if (kind != '?' && kind != 'b') {
    return Error(ErrorCode::kDataLoss,
                 fmt::format("{}: npy dtype '{}' has no item size", name, descr));
  }
  if (!s.empty() && !(s.front() == '[' && s.back() == ']' && (kind == 'm' || kind == 'M'))) {
    return Error(ErrorCode::kDataLoss, fmt::format("{}: bad npy dtype '{}'", name, descr));
  }
  if (kind == 'U') n *= 4;  // UCS-4 code units
  return n;
}

}  // namespace

std::uint64_t NpyArray::element_count() const {
  std::uint64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

Result<NpyArray> parse_npy(const Bytes& object, std::string_view name, std::uint64_t base_offset) {
  const std::byte* p = object.data();
  const std::size_t size = object.size();
  if (size < 10 || std::memcmp(p, "\x93NUMPY", 6) != 0) {
    return corrupt(name, base_offset,
                   "not an npy array (expected the magic \\x93NUMPY followed by a version)");
  }
  const int major = std::to_integer<int>(p[6]);
  std::size_t header_at = 0, header_len = 0;
  if (major == 1) {
    header_at = 10;
    header_len = load_le(p + 8, 2);
  } else if (major == 2 || major == 3) {
    if (size < 12) return corrupt(name, base_offset, "npy header truncated");
    header_at = 12;
    header_len = load_le(p + 8, 4);
  } else {
    return Error(ErrorCode::kUnimplemented,
                 fmt::format("{}: at byte offset {}: npy version {}.{} (1.0, 2.0, 3.0 are read)",
                             name, base_offset + 6, major, std::to_integer<int>(p[7])));
  }
  if (header_at + header_len > size) {
    return corrupt(name, base_offset + 8,
                   fmt::format("npy header of {} bytes runs past the end ({} bytes in all)",
                               header_len, size));
  }
  std::string_view dict(reinterpret_cast<const char*>(p + header_at), header_len);
  OMNIO_ASSIGN_OR_RETURN(NpyDict d, parse_npy_dict(dict, name, base_offset + header_at));
  OMNIO_ASSIGN_OR_RETURN(std::size_t item, dtype_item_size(d.descr, name));
  std::uint64_t bytes = item;
  for (std::uint64_t dim : d.shape) {
    if (__builtin_mul_overflow(bytes, dim, &bytes)) {
      return corrupt(name, base_offset + header_at, "npy shape overflows 64 bits");
    }
  }
  const std::uint64_t data_at = header_at + header_len;
  if (size - data_at != bytes) {
    std::string shape_text = fmt::format("{}", fmt::join(d.shape, ", "));
    if (d.shape.size() == 1) shape_text += ',';  // Python's 1-tuple
    return corrupt(name, base_offset + data_at,
                   fmt::format("npy data is {} bytes but dtype '{}' and shape ({}) need {}",
                               size - data_at, d.descr, shape_text, bytes));
  }
  NpyArray a;
  a.dtype = std::move(d.descr);
  a.item_size = item;
  a.shape = std::move(d.shape);
  a.fortran_order = d.fortran;
  a.data = object.slice(data_at, bytes);
  return a;
}

// ---- npz

namespace {

constexpr std::uint32_t kEocdSig = 0x06054b50, kZip64LocatorSig = 0x07064b50,
                        kZip64EocdSig = 0x06064b50, kCentralSig = 0x02014b50,
                        kLocalSig = 0x04034b50;

Result<Bytes> inflate_entry(const Bytes& object, std::uint64_t at, std::uint64_t compressed,
                            std::uint64_t uncompressed, std::string_view name) {
  auto state = std::make_unique<inflate_state>();
  isal_inflate_init(state.get());
  state->crc_flag = ISAL_DEFLATE;  // raw deflate, as zip stores it
  std::shared_ptr<std::byte[]> out(new std::byte[std::max<std::uint64_t>(uncompressed, 1)]);
  const std::byte* in = object.data() + at;
  std::uint64_t in_left = compressed, out_done = 0;
  std::byte probe[1];
  bool probing = false;  // the declared output is full: one more byte means it lied
  constexpr std::uint64_t kStep = std::uint64_t{1} << 30;
  while (state->block_state != ISAL_BLOCK_FINISH) {
    if (state->avail_in == 0 && in_left > 0) {
      const std::uint64_t n = std::min(in_left, kStep);
      state->next_in = reinterpret_cast<std::uint8_t*>(const_cast<std::byte*>(in));
      state->avail_in = static_cast<std::uint32_t>(n);
      in += n;
      in_left -= n;
    }
    if (state->avail_out == 0) {
      if (probing || out_done >= uncompressed) {
        if (probing) {
          return corrupt(name, at,
                         fmt::format("deflated npz entry inflates to more than its declared "
                                     "{} bytes",
                                     uncompressed));
        }
        probing = true;
        state->next_out = reinterpret_cast<std::uint8_t*>(probe);
        state->avail_out = 1;
      } else {
        const std::uint64_t n = std::min(uncompressed - out_done, kStep);
        state->next_out = reinterpret_cast<std::uint8_t*>(out.get() + out_done);
        state->avail_out = static_cast<std::uint32_t>(n);
        out_done += n;
      }
    }
    const std::uint32_t before_in = state->avail_in, before_out = state->avail_out;
    const int rc = isal_inflate(state.get());
    if (rc != ISAL_DECOMP_OK) {
      return corrupt(name, at + (compressed - in_left - state->avail_in),
                     fmt::format("deflated npz entry is corrupt (ISA-L inflate error {})", rc));
    }
    if (state->block_state != ISAL_BLOCK_FINISH && state->avail_in == 0 && in_left == 0 &&
        before_in == state->avail_in && before_out == state->avail_out) {
      return corrupt(name, at + compressed, "deflated npz entry is truncated");
    }
  }
  if (probing && state->avail_out == 0) {
    return corrupt(name, at,
                   fmt::format("deflated npz entry inflates to more than its declared {} bytes",
                               uncompressed));
  }
  const std::uint64_t produced = probing ? out_done : out_done - state->avail_out;
  if (produced != uncompressed) {
    return corrupt(name, at,
                   fmt::format("deflated npz entry inflates to {} bytes, its header says {}",
                               produced, uncompressed));
  }
  auto* data = out.get();
  return Bytes::from_shared(std::shared_ptr<const void>(out, data), data,
                            static_cast<std::size_t>(uncompressed));
}

}  // namespace

Result<std::vector<NpyArray>> parse_npz(const Bytes& object, std::string_view name) {
  const std::byte* p = object.data();
  const std::uint64_t size = object.size();
  // End of central directory: the last signature within 22 + 65535 bytes of the end.
  if (size < 22) return corrupt(name, 0, "too short for a zip archive (npz)");
  std::uint64_t eocd = size - 22;
  const std::uint64_t lowest = size > 22 + 65535 ? size - 22 - 65535 : 0;
  while (load_le(p + eocd, 4) != kEocdSig) {
    if (eocd == lowest) {
      return corrupt(name, size,
                     "no zip end-of-central-directory record (not an npz, or truncated)");
    }
    --eocd;
  }
  std::uint64_t entries = load_le(p + eocd + 10, 2);
  std::uint64_t cd_size = load_le(p + eocd + 12, 4);
  std::uint64_t cd_offset = load_le(p + eocd + 16, 4);
  if (entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
    if (eocd < 20 || load_le(p + eocd - 20, 4) != kZip64LocatorSig) {
      return corrupt(name, eocd,
                     "zip64 sizes announced but no zip64 locator before the end record");
    }
    const std::uint64_t z = load_le(p + eocd - 20 + 8, 8);
    if (z + 56 > size || load_le(p + z, 4) != kZip64EocdSig) {
      return corrupt(name, z, "no zip64 end-of-central-directory record where the locator points");
    }
    entries = load_le(p + z + 32, 8);
    cd_size = load_le(p + z + 40, 8);
    cd_offset = load_le(p + z + 48, 8);
  }
  if (cd_offset > size || cd_size > size - cd_offset) {
    return corrupt(name, eocd,
                   fmt::format("central directory [{}, +{}) lies outside the {}-byte archive",
                               cd_offset, cd_size, size));
  }
  std::vector<NpyArray> arrays;
  std::uint64_t at = cd_offset;
  const std::uint64_t cd_end = cd_offset + cd_size;
  for (std::uint64_t i = 0; i < entries; ++i) {
    if (at + 46 > cd_end || load_le(p + at, 4) != kCentralSig) {
      return corrupt(name, at, fmt::format("central directory entry {} is missing or corrupt", i));
    }
    const std::uint64_t flags = load_le(p + at + 8, 2), method = load_le(p + at + 10, 2);
    const std::uint32_t crc = static_cast<std::uint32_t>(load_le(p + at + 16, 4));
    std::uint64_t csize = load_le(p + at + 20, 4), usize = load_le(p + at + 24, 4);
    const std::uint64_t nlen = load_le(p + at + 28, 2), xlen = load_le(p + at + 30, 2),
                        clen = load_le(p + at + 32, 2);
    std::uint64_t local = load_le(p + at + 42, 4);
    if (at + 46 + nlen + xlen + clen > cd_end) {
      return corrupt(name, at, fmt::format("central directory entry {} runs past its end", i));
    }
    std::string entry(reinterpret_cast<const char*>(p + at + 46), nlen);
    // zip64 extra field: the 64-bit values of the fields stored as 0xFFFFFFFF, in this order.
    for (std::uint64_t x = at + 46 + nlen; x + 4 <= at + 46 + nlen + xlen;) {
      const std::uint64_t id = load_le(p + x, 2), len = load_le(p + x + 2, 2);
      if (id == 0x0001) {
        std::uint64_t f = x + 4;
        const std::uint64_t fend = std::min(f + len, at + 46 + nlen + xlen);  // a bogus len
        for (std::uint64_t* v : {&usize, &csize, &local}) {
          if (*v != 0xFFFFFFFF) continue;
          if (f + 8 > fend) return corrupt(name, x, "zip64 extra field too short");
          *v = load_le(p + f, 8);
          f += 8;
        }
      }
      x += 4 + len;
    }
    const std::string where = fmt::format("{}[{}]", name, entry);
    if (flags & 1) {
      return Error(ErrorCode::kUnimplemented,
                   fmt::format("{}: entry is encrypted; not supported", where));
    }
    if (method != 0 && method != 8) {
      return Error(ErrorCode::kUnimplemented,
                   fmt::format("{}: compression method {} (only stored (0) and deflate (8) are "
                               "read)",
                               where, method));
    }
    if (entry.size() < 4 || entry.compare(entry.size() - 4, 4, ".npy") != 0) {
      return corrupt(name, at, fmt::format("npz entry '{}' is not a .npy", entry));
    }
    if (local + 30 > size || load_le(p + local, 4) != kLocalSig) {
      return corrupt(name, local, fmt::format("no local header for entry '{}'", entry));
    }
    const std::uint64_t data_at =
        local + 30 + load_le(p + local + 26, 2) + load_le(p + local + 28, 2);
    if (data_at > size || csize > size - data_at) {
      return corrupt(name, data_at,
                     fmt::format("entry '{}' ({} bytes) runs past the end of the {}-byte archive",
                                 entry, csize, size));
    }
    Bytes raw;
    if (method == 0) {
      if (csize != usize) {
        return corrupt(name, at,
                       fmt::format("stored entry '{}' has compressed size {} != size {}", entry,
                                   csize, usize));
      }
      raw = object.slice(data_at, csize);
    } else {
      OMNIO_ASSIGN_OR_RETURN(raw, inflate_entry(object, data_at, csize, usize, where));
    }
    const std::uint32_t actual = crc32_ieee_update(0, raw.span());
    if (actual != crc) {
      return corrupt(name, data_at,
                     fmt::format("CRC-32 mismatch in entry '{}': stored {:08x}, data has {:08x}",
                                 entry, crc, actual));
    }
    OMNIO_ASSIGN_OR_RETURN(NpyArray a,
                           parse_npy(raw, where, method == 0 ? data_at : std::uint64_t{0}));
    a.name = entry.substr(0, entry.size() - 4);
    arrays.push_back(std::move(a));
    at += 46 + nlen + xlen + clen;
  }
  return arrays;
}

// ---- TFRecord

Result<std::vector<TfRecordSpan>> parse_tfrecord_index(const Bytes& index, std::string_view name,
                                                       TfRecordIndexFormat format) {
  std::string_view text = index.as_string_view();
  if (format == TfRecordIndexFormat::kAuto) {
    const bool is_text = std::all_of(text.begin(), text.end(), [](char c) {
      return (c >= '0' && c <= '9') || c == ' ' || c == '\t' || c == '\n' || c == '\r';
    });
    format = is_text ? TfRecordIndexFormat::kText : TfRecordIndexFormat::kBinary;
  }
  std::vector<TfRecordSpan> out;
  const auto check = [&](const TfRecordSpan& s, std::string_view where) -> Status {
    if (s.size < kTfRecordFramingBytes) {
      return Error(
          ErrorCode::kDataLoss,
          fmt::format("{}: {}: record size {} is below the 16 framing bytes", name, where, s.size));
    }
    if (!out.empty() && s.offset < out.back().offset + out.back().size) {
      return Error(ErrorCode::kDataLoss,
                   fmt::format("{}: {}: record at {} overlaps the previous one ({} + {})", name,
                               where, s.offset, out.back().offset, out.back().size));
    }
    return ok_status();
  };
  if (format == TfRecordIndexFormat::kBinary) {
    if (index.size() % 16 != 0) {
      return Error(ErrorCode::kDataLoss,
                   fmt::format("{}: binary TFRecord index of {} bytes is not a multiple of 16 "
                               "(uint64 offset + uint64 size per record)",
                               name, index.size()));
    }
    for (std::size_t i = 0; i < index.size(); i += 16) {
      TfRecordSpan s{load_le(index.data() + i, 8), load_le(index.data() + i + 8, 8)};
      OMNIO_TRY(check(s, fmt::format("at byte offset {}", i)));
      out.push_back(s);
    }
    return out;
  }
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::uint64_t v[2];
    std::size_t got = 0, i = 0;
    bool bad = false;
    while (true) {
      i = skip_ws(line, i);
      if (i >= line.size()) break;
      if (got == 2) {
        bad = true;
        break;
      }
      auto [q, ec] = std::from_chars(line.data() + i, line.data() + line.size(), v[got]);
      if (ec != std::errc()) {
        bad = true;
        break;
      }
      ++got;
      i = static_cast<std::size_t>(q - line.data());
    }
    if (got == 0 && !bad) continue;  // blank line
    if (bad || got != 2) {
      return Error(ErrorCode::kDataLoss,
                   fmt::format("{}: line {}: expected \"offset size\" (two whole numbers), got "
                               "\"{}\"",
                               name, line_no, line.substr(0, 100)));
    }
    TfRecordSpan s{v[0], v[1]};
    OMNIO_TRY(check(s, fmt::format("line {}", line_no)));
    out.push_back(s);
  }
  return out;
}

std::string tfrecord_index_binary(std::span<const TfRecordSpan> records) {
  std::string out;
  out.reserve(records.size() * 16);
  for (const auto& r : records) {
    for (std::uint64_t v : {r.offset, r.size}) {
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
  }
  return out;
}

namespace {

// Verifies the 12-byte header at `at` of `data`; returns the data length.
Result<std::uint64_t> record_length(std::span<const std::byte> data, std::size_t at,
                                    std::string_view name, std::uint64_t offset) {
  if (data.size() - at < 12) {
    return corrupt(name, offset,
                   fmt::format("TFRecord header truncated: {} of 12 bytes", data.size() - at));
  }
  const std::uint64_t len = load_le(data.data() + at, 8);
  const std::uint32_t stored = static_cast<std::uint32_t>(load_le(data.data() + at + 8, 4));
  const std::uint32_t actual = mask_crc32c(crc32c(data.subspan(at, 8)));
  if (stored != actual) {
    return corrupt(name, offset,
                   fmt::format("TFRecord length CRC mismatch (stored {:08x}, computed {:08x})",
                               stored, actual));
  }
  if (len > data.size() - at - 12 || data.size() - at - 12 - len < 4) {
    return corrupt(name, offset,
                   fmt::format("TFRecord of {} data bytes truncated: {} bytes follow its header",
                               len, data.size() - at - 12));
  }
  return len;
}

Status check_data_crc(std::span<const std::byte> data, std::size_t at, std::uint64_t len,
                      std::string_view name, std::uint64_t offset) {
  const std::uint32_t stored = static_cast<std::uint32_t>(load_le(data.data() + at + 12 + len, 4));
  const std::uint32_t actual = mask_crc32c(crc32c(data.subspan(at + 12, len)));
  if (stored != actual) {
    return corrupt(name, offset,
                   fmt::format("TFRecord data CRC mismatch over {} bytes (stored {:08x}, "
                               "computed {:08x})",
                               len, stored, actual));
  }
  return ok_status();
}

}  // namespace

Result<Bytes> tfrecord_record_data(const Bytes& framed, std::string_view name,
                                   std::uint64_t offset) {
  OMNIO_ASSIGN_OR_RETURN(std::uint64_t len, record_length(framed.span(), 0, name, offset));
  if (len + kTfRecordFramingBytes != framed.size()) {
    return corrupt(name, offset,
                   fmt::format("TFRecord holds {} data bytes ({} with framing) but the index says "
                               "the record is {} bytes",
                               len, len + kTfRecordFramingBytes, framed.size()));
  }
  OMNIO_TRY(check_data_crc(framed.span(), 0, len, name, offset));
  return framed.slice(12, len);
}

Result<std::vector<TfRecordSpan>> scan_tfrecord(const Bytes& object, std::string_view name) {
  std::vector<TfRecordSpan> out;
  std::size_t at = 0;
  while (at < object.size()) {
    OMNIO_ASSIGN_OR_RETURN(std::uint64_t len, record_length(object.span(), at, name, at));
    OMNIO_TRY(check_data_crc(object.span(), at, len, name, at));
    out.push_back(TfRecordSpan{at, len + kTfRecordFramingBytes});
    at += len + kTfRecordFramingBytes;
  }
  return out;
}

Result<std::vector<Bytes>> read_tfrecords(const Bytes& object, std::string_view name) {
  OMNIO_ASSIGN_OR_RETURN(auto spans, scan_tfrecord(object, name));
  std::vector<Bytes> out;
  out.reserve(spans.size());
  for (const auto& s : spans) out.push_back(object.slice(s.offset + 12, s.size - 16));
  return out;
}

}  // namespace omnio
