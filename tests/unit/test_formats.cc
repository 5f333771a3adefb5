// Object formats (include/omnio/formats.h): exact NPY headers, NPZ archives whose local headers,
// central directory and zip64 records agree with the data (CRC-32 recomputed here), TFRecord
// framing whose masked CRC-32C are recomputed here with the published formula, DALI index offsets
// that point at records, and streaming output identical to the one-pass fill for any chunking.
// tests/cli/check_formats.py cross-checks the same files with numpy / Python's zipfile.
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "omnio/crc32c.h"
#include "omnio/formats.h"

namespace omnio {
namespace {

DataGenOptions payload(std::uint64_t size, std::uint64_t index = 0) {
  DataGenOptions o;
  o.size = size;
  o.seed = 99;
  o.object_index = index;
  return o;
}

std::vector<std::byte> fill_all(const FormatOptions& f, const DataGenOptions& p) {
  auto g = FormattedGenerator::create(f, p);
  EXPECT_TRUE(g.ok()) << g.error().to_string();
  std::vector<std::byte> out(static_cast<std::size_t>(g->size()));
  EXPECT_TRUE(g->fill_all(out).ok());
  return out;
}

std::vector<std::byte> streamed(const FormatOptions& f, const DataGenOptions& p,
                                std::size_t chunk) {
  auto g = FormattedGenerator::create(f, p);
  EXPECT_TRUE(g.ok());
  std::vector<std::byte> out;
  std::vector<std::byte> buf(chunk);
  for (;;) {
    auto n = g->fill(buf);
    EXPECT_TRUE(n.ok());
    if (!n.ok() || *n == 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
  }
  EXPECT_EQ(out.size(), g->size());
  return out;
}

std::uint64_t le(const std::vector<std::byte>& b, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(b[at + i]);
  return v;
}

std::span<const std::byte> sub(const std::vector<std::byte>& b, std::size_t at, std::size_t n) {
  return std::span<const std::byte>(b).subspan(at, n);
}

// The published TFRecord mask, written out here rather than calling the library's.
std::uint32_t masked(std::uint32_t crc) {
  return static_cast<std::uint32_t>(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
}

TEST(Formats, ParseNames) {
  for (auto name : {"raw", "npy", "npz", "tfrecord"}) {
    auto f = parse_object_format(name);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(object_format_name(*f), name);
  }
  auto bad = parse_object_format("hdf5");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().to_string().find("tfrecord"), std::string::npos);
  EXPECT_EQ(object_format_extension(ObjectFormat::kRaw), ".dat");
  EXPECT_EQ(object_format_extension(ObjectFormat::kNpz), ".npz");
}

TEST(Formats, NpyHeaderIsAlignedAndExact) {
  for (std::uint64_t n : {0ull, 1ull, 4095ull, 1ull << 20, 5000000000ull}) {
    const std::string h = npy_header(n);
    EXPECT_EQ(h.size() % 64, 0u);
    EXPECT_EQ(h.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    EXPECT_EQ(static_cast<std::size_t>(static_cast<unsigned char>(h[8]) |
                                       (static_cast<unsigned char>(h[9]) << 8)),
              h.size() - 10);
    EXPECT_NE(h.find("'descr': '|u1'"), std::string::npos);
    EXPECT_NE(h.find("'shape': (" + std::to_string(n) + ",)"), std::string::npos);
    EXPECT_EQ(h.back(), '\n');
  }
}

TEST(Formats, Crc32IeeeCheckValueAndChaining) {
  const std::string s = "123456789";
  auto b = std::as_bytes(std::span(s));
  EXPECT_EQ(crc32_ieee_update(0, b), 0xCBF43926u);
  EXPECT_EQ(crc32_ieee_update(crc32_ieee_update(0, b.first(4)), b.subspan(4)), 0xCBF43926u);
  EXPECT_EQ(mask_crc32c(0), 0xa282ead8u);
  EXPECT_EQ(mask_crc32c(0xE3069283u), masked(0xE3069283u));
}

TEST(Formats, TfRecordIndexText) {
  const std::vector<std::uint64_t> sizes{0, 10, 3};
  EXPECT_EQ(tfrecord_index(sizes), "0 16\n16 26\n42 19\n");
}

TEST(Formats, RawAndNpyCarryTheGeneratorBytes) {
  const auto p = payload(10007);
  const Bytes expect = *generate(p);
  auto raw = fill_all({ObjectFormat::kRaw}, p);
  ASSERT_EQ(raw.size(), expect.size());
  EXPECT_EQ(std::memcmp(raw.data(), expect.data(), raw.size()), 0);
  auto npy = fill_all({ObjectFormat::kNpy}, p);
  const std::size_t h = npy_header(10007).size();
  ASSERT_EQ(npy.size(), h + 10007);
  EXPECT_EQ(std::memcmp(npy.data() + h, expect.data(), expect.size()), 0);
}

TEST(Formats, TfRecordFramingAndCrcs) {
  FormatOptions f{ObjectFormat::kTfRecord, 5};
  const auto p = payload(100003);
  auto obj = fill_all(f, p);
  auto g = *FormattedGenerator::create(f, p);
  std::vector<std::uint64_t> lengths;
  std::size_t at = 0, payload_bytes = 0;
  std::istringstream index(g.index());
  while (at < obj.size()) {
    std::uint64_t off = 0, size = 0;
    ASSERT_TRUE(index >> off >> size);
    EXPECT_EQ(off, at) << "index offset points at the record";
    const std::uint64_t len = le(obj, at, 8);
    EXPECT_EQ(size, len + 16);
    EXPECT_EQ(le(obj, at + 8, 4), masked(crc32c(sub(obj, at, 8))));
    EXPECT_EQ(le(obj, at + 12 + len, 4), masked(crc32c(sub(obj, at + 12, len))));
    lengths.push_back(len);
    payload_bytes += len;
    at += len + 16;
  }
  EXPECT_EQ(at, obj.size());
  EXPECT_EQ(payload_bytes, 100003u);
  EXPECT_EQ(lengths, (std::vector<std::uint64_t>{20001, 20001, 20001, 20000, 20000}));
  std::uint64_t extra = 0;
  EXPECT_FALSE(index >> extra);
}

// Walks the archive from the end of central directory, as an unzip tool does.
void check_npz(const std::vector<std::byte>& z, std::size_t entries, bool expect_zip64) {
  ASSERT_GE(z.size(), 22u);
  const std::size_t eocd = z.size() - 22;
  ASSERT_EQ(le(z, eocd, 4), 0x06054b50u);
  std::uint64_t n = le(z, eocd + 10, 2), cd_size = le(z, eocd + 12, 4),
                cd_off = le(z, eocd + 16, 4);
  if (expect_zip64) {
    ASSERT_EQ(le(z, eocd - 20, 4), 0x07064b50u);
    const std::size_t z64 = static_cast<std::size_t>(le(z, eocd - 20 + 8, 8));
    ASSERT_EQ(le(z, z64, 4), 0x06064b50u);
    n = le(z, z64 + 32, 8);
    cd_size = le(z, z64 + 40, 8);
    cd_off = le(z, z64 + 48, 8);
    EXPECT_EQ(z64, cd_off + cd_size);
  } else {
    EXPECT_EQ(cd_off + cd_size, eocd);
  }
  ASSERT_EQ(n, entries);
  std::size_t at = static_cast<std::size_t>(cd_off);
  for (std::size_t k = 0; k < entries; ++k) {
    ASSERT_EQ(le(z, at, 4), 0x02014b50u);
    const std::uint32_t crc = static_cast<std::uint32_t>(le(z, at + 16, 4));
    std::uint64_t size = le(z, at + 24, 4), local = le(z, at + 42, 4);
    const std::size_t name_len = le(z, at + 28, 2), extra_len = le(z, at + 30, 2);
    const std::string name(reinterpret_cast<const char*>(z.data() + at + 46), name_len);
    EXPECT_EQ(name, "arr_" + std::to_string(k) + ".npy");
    if (expect_zip64) {
      ASSERT_EQ(extra_len, 28u);
      EXPECT_EQ(le(z, at + 46 + name_len, 2), 1u);
      size = le(z, at + 46 + name_len + 4, 8);
      local = le(z, at + 46 + name_len + 20, 8);
    }
    // The local header agrees and the stored bytes match the CRC.
    ASSERT_EQ(le(z, local, 4), 0x04034b50u);
    EXPECT_EQ(le(z, local + 8, 2), 0u) << "stored";
    EXPECT_EQ(le(z, local + 14, 4), crc);
    const std::size_t lname = le(z, local + 26, 2), lextra = le(z, local + 28, 2);
    const std::size_t data = static_cast<std::size_t>(local) + 30 + lname + lextra;
    if (!expect_zip64)
      EXPECT_EQ(le(z, local + 22, 4), size);
    else
      EXPECT_EQ(le(z, local + 30 + lname + 4, 8), size);
    EXPECT_EQ(crc32_ieee_update(0, sub(z, data, size)), crc);
    EXPECT_EQ(std::memcmp(z.data() + data, "\x93NUMPY", 6), 0);
    at += 46 + name_len + extra_len;
  }
}

TEST(Formats, NpzArchiveIsConsistent) {
  check_npz(fill_all({ObjectFormat::kNpz, 1}, payload(4096)), 1, false);
  check_npz(fill_all({ObjectFormat::kNpz, 3}, payload(1000)), 3, false);
  check_npz(fill_all({ObjectFormat::kNpz, 2}, payload(0)), 2, false);
  check_npz(fill_all({ObjectFormat::kNpz, 3, true}, payload(5000)), 3, true);
}

TEST(Formats, StreamingEqualsOnePassForAnyChunking) {
  const std::vector<FormatOptions> formats{
      {ObjectFormat::kRaw},          {ObjectFormat::kNpy},         {ObjectFormat::kNpz, 4},
      {ObjectFormat::kNpz, 2, true}, {ObjectFormat::kTfRecord, 1}, {ObjectFormat::kTfRecord, 7}};
  for (const auto& f : formats) {
    for (std::uint64_t size : {0ull, 1ull, 4095ull, 300000ull}) {
      const auto whole = fill_all(f, payload(size, 3));
      for (std::size_t chunk : {1ul, 7ul, 4096ul, 1ul << 20}) {
        if (chunk == 1 && size > 4095) continue;  // byte-at-a-time is slow; 7 covers odd splits
        EXPECT_EQ(streamed(f, payload(size, 3), chunk), whole)
            << object_format_name(f.format) << " samples " << f.samples << " size " << size
            << " chunk " << chunk;
      }
    }
  }
}

TEST(Formats, ObjectsOfOneSeedDiffer) {
  EXPECT_NE(fill_all({ObjectFormat::kNpz}, payload(8192, 0)),
            fill_all({ObjectFormat::kNpz}, payload(8192, 1)));
}

TEST(Formats, UnseededGeneratorIsConsistentBetweenFillAndStream) {
  DataGenOptions p;
  p.size = 70000;
  auto g = *FormattedGenerator::create({ObjectFormat::kTfRecord, 2}, p);
  std::vector<std::byte> a(static_cast<std::size_t>(g.size()));
  ASSERT_TRUE(g.fill_all(a).ok());
  std::vector<std::byte> b(a.size());
  ASSERT_EQ(*g.fill(b), b.size());
  EXPECT_EQ(a, b);
}

TEST(Formats, BadOptions) {
  auto r = FormattedGenerator::create({ObjectFormat::kNpy, 2}, payload(10));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().to_string().find("samples must be 1"), std::string::npos);
  r = FormattedGenerator::create({ObjectFormat::kTfRecord, 0}, payload(10));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  auto g = *FormattedGenerator::create({ObjectFormat::kRaw}, payload(10));
  std::vector<std::byte> small(9);
  EXPECT_EQ(g.fill_all(small).error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace omnio
