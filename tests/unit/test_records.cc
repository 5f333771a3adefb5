// Record formats read by the loader: .npz written by numpy itself (stored and deflated) read back
// equal; TFRecord CRC-32C against known vectors, index-based (ranged) reads equal to sequential
// reads for both index formats, and corruption reported with the object and byte offset.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "omnio/crc32c.h"
#include "omnio/formats.h"
#include "omnio/loader.h"
#include "omnio/records.h"

namespace omnio {
namespace {

namespace fs = std::filesystem;

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return Bytes::copy_of(ss.str());
}

void write_file(const fs::path& p, std::string_view data) {
  std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

class RecordFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("omnio-records-{}-{}", ::getpid(), counter_++);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string uri(const std::string& name) const { return "file://" + (dir_ / name).string(); }

  // Runs one epoch of a loader over `ds`; returns the items in sampler order, or the error.
  static Result<std::vector<Item>> load_all(const Dataset& ds, ObjectFormat format,
                                            std::size_t pool = 4) {
    auto c = LoaderConfig::Builder().batch_size(3).pool_size(pool).format(format).build();
    if (!c.ok()) return c.error();
    OMNIO_ASSIGN_OR_RETURN(auto l, DataLoader::create(ds, *c));
    OMNIO_TRY(l->start_epoch(0));
    std::vector<Item> out;
    while (true) {
      OMNIO_ASSIGN_OR_RETURN(auto b, l->next());
      if (!b) break;
      for (auto& it : b->items) out.push_back(std::move(it));
    }
    return out;
  }

  fs::path dir_;
  static inline int counter_ = 0;
};

// An object of omnio's generator (the bytes `omnio put --format` writes) and its layout.
struct Generated {
  std::string bytes;
  std::vector<std::uint64_t> sample_sizes;
  std::string index;  // tfrecord: DALI text index
};

Generated generate(ObjectFormat format, std::uint64_t samples, std::uint64_t size,
                   std::uint64_t seed, std::uint64_t object_index = 0, bool zip64 = false) {
  FormatOptions f;
  f.format = format;
  f.samples = samples;
  f.force_zip64 = zip64;
  DataGenOptions d;
  d.size = size;
  d.seed = seed;
  d.object_index = object_index;
  auto g = FormattedGenerator::create(f, d);
  EXPECT_TRUE(g.ok()) << g.error().to_string();
  Generated out{std::string(g->size(), '\0'), g->sample_sizes(), g->index()};
  EXPECT_TRUE(g->fill_all(std::as_writable_bytes(std::span(out.bytes))).ok());
  return out;
}

// ---- NPZ / NPY written by numpy ----

// The Python that has numpy: Debian's python3-numpy (scripts/install-deps) is /usr/bin/python3;
// a PATH python3 (pyenv) may lack it.
std::string numpy_python() {
  for (const char* p : {"/usr/bin/python3", "python3"}) {
    if (std::system(fmt::format("{} -c 'import numpy' 2>/dev/null", p).c_str()) == 0) return p;
  }
  return {};
}

// numpy writes data.npz (savez: stored), data_z.npz (savez_compressed: deflated) and one.npy,
// plus, for each array, its exact data bytes (NAME.bin) and a manifest of dtype/shape/order.
constexpr const char* kNumpyScript = R"PY(
import json, sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(3)
arrays = {
    'f32': rng.standard_normal((3, 4)).astype('<f4'),
    'i64': np.arange(-5, 5, dtype='<i8'),
    'be_i32': np.arange(7, dtype='>i4'),
    'u8_big': rng.integers(0, 4, size=3 << 20, dtype=np.uint8),   # compressible, > 1 MiB
    'flags': np.array([True, False, True]),
    'text': np.array(['ab', 'cde', '']),
    'fortran': np.asfortranarray(np.arange(6, dtype='<u2').reshape(2, 3)),
    'scalar': np.array(2.5),
    'empty': np.zeros((0, 5), dtype='<f8'),
}
np.savez(d + '/data.npz', **arrays)
np.savez_compressed(d + '/data_z.npz', **arrays)
np.save(d + '/one.npy', arrays['f32'])
man = {}
for k, a in arrays.items():
    order = 'F' if (a.flags.f_contiguous and not a.flags.c_contiguous) else 'C'
    open(d + '/' + k + '.bin', 'wb').write(a.tobytes(order=order))
    man[k] = {'descr': np.lib.format.dtype_to_descr(a.dtype), 'shape': list(a.shape),
              'fortran': order == 'F'}
json.dump(man, open(d + '/manifest.json', 'w'))
)PY";

TEST_F(RecordFiles, NpzWrittenByNumpyReadsBackEqualStoredAndDeflated) {
  const std::string py = numpy_python();
  ASSERT_FALSE(py.empty()) << "python3 with numpy is required (scripts/install-deps installs "
                              "python3-numpy)";
  write_file(dir_ / "gen.py", kNumpyScript);
  ASSERT_EQ(
      std::system(fmt::format("{} {} {}", py, (dir_ / "gen.py").string(), dir_.string()).c_str()),
      0);
  std::ifstream mf(dir_ / "manifest.json");
  const auto manifest = nlohmann::json::parse(mf);
  ASSERT_EQ(manifest.size(), 9u);

  for (const char* file : {"data.npz", "data_z.npz"}) {
    SCOPED_TRACE(file);
    const Bytes object = read_file(dir_ / file);
    auto arrays = parse_npz(object, file);
    ASSERT_TRUE(arrays.ok()) << arrays.error().to_string();
    ASSERT_EQ(arrays->size(), manifest.size());
    const bool stored = std::string(file) == "data.npz";
    for (const NpyArray& a : *arrays) {
      SCOPED_TRACE(a.name);
      ASSERT_TRUE(manifest.contains(a.name));
      const auto& m = manifest[a.name];
      EXPECT_EQ(a.dtype, m["descr"].get<std::string>());
      EXPECT_EQ(a.shape, m["shape"].get<std::vector<std::uint64_t>>());
      EXPECT_EQ(a.fortran_order, m["fortran"].get<bool>());
      EXPECT_EQ(a.data, read_file(dir_ / (a.name + ".bin")));  // the exact bytes numpy holds
      EXPECT_EQ(a.data.size(), a.element_count() * a.item_size);
      if (stored && !a.data.empty()) {  // zero-copy: a view into the object
        EXPECT_GE(a.data.data(), object.data());
        EXPECT_LE(a.data.data() + a.data.size(), object.data() + object.size());
      }
    }
  }
  EXPECT_EQ((*parse_npz(read_file(dir_ / "data.npz"), "x"))[3].item_size, 1u);  // u8_big

  auto one = parse_npy(read_file(dir_ / "one.npy"), "one.npy");
  ASSERT_TRUE(one.ok()) << one.error().to_string();
  EXPECT_EQ(one->dtype, "<f4");
  EXPECT_EQ(one->shape, (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(one->data, read_file(dir_ / "f32.bin"));

  // Through the loader: items carry the parsed arrays.
  auto ds = Dataset::from_uris({uri("data.npz"), uri("data_z.npz")});
  ASSERT_TRUE(ds.ok());
  auto items = load_all(*ds, ObjectFormat::kNpz);
  ASSERT_TRUE(items.ok()) << items.error().to_string();
  ASSERT_EQ(items->size(), 2u);
  for (const Item& it : *items) {
    ASSERT_EQ(it.arrays.size(), 9u);
    for (const NpyArray& a : it.arrays) EXPECT_EQ(a.data, read_file(dir_ / (a.name + ".bin")));
  }
  auto npy = Dataset::from_uris({uri("one.npy")});
  auto npy_items = load_all(*npy, ObjectFormat::kNpy);
  ASSERT_TRUE(npy_items.ok()) << npy_items.error().to_string();
  ASSERT_EQ((*npy_items)[0].arrays.size(), 1u);
  EXPECT_EQ((*npy_items)[0].arrays[0].data, read_file(dir_ / "f32.bin"));
}

TEST_F(RecordFiles, OurOwnNpzWriterIncludingZip64ReadsBack) {
  for (bool zip64 : {false, true}) {
    const Generated g = generate(ObjectFormat::kNpz, 3, 100000, 5, 0, zip64);
    auto arrays = parse_npz(Bytes::copy_of(g.bytes), "gen.npz");
    ASSERT_TRUE(arrays.ok()) << arrays.error().to_string();
    ASSERT_EQ(arrays->size(), 3u);
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ((*arrays)[i].name, fmt::format("arr_{}", i));
      EXPECT_EQ((*arrays)[i].data.size(), g.sample_sizes[i]);
      total += (*arrays)[i].data.size();
    }
    EXPECT_EQ(total, 100000u);
  }
}

TEST_F(RecordFiles, CorruptNpzAndNpyNameTheObjectAndOffset) {
  const std::string buf = generate(ObjectFormat::kNpz, 2, 5000, 1).bytes;
  const std::size_t data0 = buf.find("\x93NUMPY");
  ASSERT_NE(data0, std::string::npos);
  std::string flipped = buf;
  flipped[data0 + 200] ^= 0x01;  // inside arr_0's payload
  auto r = parse_npz(Bytes::copy_of(flipped), "s3://b/x.npz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(r.error().to_string().find("s3://b/x.npz: at byte offset " + std::to_string(data0)),
            std::string::npos)
      << r.error().to_string();
  EXPECT_NE(r.error().to_string().find("CRC-32 mismatch"), std::string::npos);

  auto t = parse_npz(Bytes::copy_of(std::string_view(buf).substr(0, buf.size() - 30)), "cut.npz");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(t.error().to_string().find("cut.npz"), std::string::npos);

  // Robustness (meant for the ASan run: copies are exactly sized, so an overread is caught):
  // every truncation is an error; a flipped byte anywhere is an error or a read of the right size.
  for (std::size_t cut = 0; cut < buf.size(); cut += 7) {
    EXPECT_FALSE(parse_npz(Bytes::copy_of(std::string_view(buf).substr(0, cut)), "t").ok()) << cut;
  }
  for (std::size_t at = 0; at < buf.size(); ++at) {
    std::string f = buf;
    f[at] ^= 0x5A;
    auto read = parse_npz(Bytes::copy_of(f), "f");
    if (read.ok()) {
      ASSERT_EQ(read->size(), 2u) << at;
      EXPECT_EQ((*read)[0].data.size() + (*read)[1].data.size(), 5000u) << at;
    }
  }

  // npy whose data is shorter than dtype x shape.
  std::string npy = npy_header(10) + std::string(9, 'x');
  auto n = parse_npy(Bytes::copy_of(npy), "short.npy");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().to_string().find(fmt::format(
                "short.npy: at byte offset {}: npy data is 9 bytes but dtype '|u1' and shape "
                "(10,) need 10",
                npy_header(10).size())),
            std::string::npos)
      << n.error().to_string();
  EXPECT_FALSE(parse_npy(Bytes::copy_of(std::string("PK\x03\x04garbage")), "a").ok());
}

// ---- TFRecord ----

TEST(TfRecord, Crc32cAndMaskAgainstKnownVectors) {
  // The CRC-32C check value (RFC 3720 B.4 / the CRC catalogue) and RFC 3720's 32-byte vectors.
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string asc;
  for (int i = 0; i < 32; ++i) asc.push_back(static_cast<char>(i));
  EXPECT_EQ(crc32c(asc), 0x46DD794Eu);
  // One record holding "123456789", framed by an independent bit-by-bit Python CRC-32C:
  // length 9 (LE u64), masked CRC 0x3971f937, data, masked CRC 0xc78ab0e5.
  EXPECT_EQ(mask_crc32c(0xE3069283u), 0xC78AB0E5u);
  const std::string rec(
      "\x09\x00\x00\x00\x00\x00\x00\x00\x37\xf9\x71\x39"
      "123456789\xe5\xb0\x8a\xc7",
      25);
  auto data = tfrecord_record_data(Bytes::copy_of(rec), "v.tfrecord", 0);
  ASSERT_TRUE(data.ok()) << data.error().to_string();
  EXPECT_EQ(data->to_string(), "123456789");
  auto all = read_tfrecords(Bytes::copy_of(rec + rec), "v.tfrecord");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].to_string(), "123456789");
}

TEST_F(RecordFiles, IndexBasedReadsEqualSequentialReadsForBothIndexFormats) {
  // Three TFRecord objects written by omnio's generator (the same bytes `omnio put --format
  // tfrecord` writes), 37 records each of uneven sizes.
  std::vector<std::vector<Bytes>> sequential;
  for (int k = 0; k < 3; ++k) {
    // ~81 KB records: the loader reads them by ranged get_into into its pooled buffers.
    const Generated g =
        generate(ObjectFormat::kTfRecord, 37, 3000000 + 13 * k, 11, static_cast<std::uint64_t>(k));
    const std::string& buf = g.bytes;
    const std::string name = fmt::format("t{}.tfrecord", k);
    write_file(dir_ / name, buf);
    auto recs = read_tfrecords(Bytes::copy_of(buf), name);
    ASSERT_TRUE(recs.ok()) << recs.error().to_string();
    ASSERT_EQ(recs->size(), 37u);
    sequential.push_back(*recs);
    auto spans = scan_tfrecord(Bytes::copy_of(buf), name);
    ASSERT_TRUE(spans.ok());
    // Object 0: DALI text index; object 1: binary index; object 2: none (scanned).
    if (k == 0) {
      write_file(dir_ / (name + ".idx"), g.index);
      auto parsed = parse_tfrecord_index(Bytes::copy_of(g.index), "i");
      ASSERT_TRUE(parsed.ok());
      EXPECT_EQ(*parsed, *spans);  // the writer's index agrees with a scan
    } else if (k == 1) {
      write_file(dir_ / (name + ".idx"), tfrecord_index_binary(*spans));
    }
  }
  auto files = Dataset::from_prefix(uri(""));
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 5u);  // 3 objects + 2 indexes
  auto ds = Dataset::tfrecord_records(*files);
  ASSERT_TRUE(ds.ok()) << ds.error().to_string();
  ASSERT_EQ(ds->size(), 3u * 37u);
  ASSERT_TRUE(ds->range_of(40).has_value());
  auto items = load_all(*ds, ObjectFormat::kTfRecord);
  ASSERT_TRUE(items.ok()) << items.error().to_string();
  ASSERT_EQ(items->size(), 3u * 37u);
  for (std::size_t i = 0; i < items->size(); ++i) {
    const Item& it = (*items)[i];
    EXPECT_EQ(it.index, i);
    EXPECT_EQ(it.uri, uri(fmt::format("t{}.tfrecord", i / 37)));
    ASSERT_EQ(it.data, sequential[i / 37][i % 37]) << "record " << i;
    EXPECT_EQ(it.offset, ds->range_of(i)->offset);
  }
  // A tfrecord loader over whole objects is refused with a pointer to the right factory.
  auto c = LoaderConfig::Builder().format(ObjectFormat::kTfRecord).build();
  auto bad = DataLoader::create(*files, *c);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().to_string().find("tfrecord_records"), std::string::npos);
}

TEST_F(RecordFiles, CorruptRecordsAndIndexesNameTheObjectAndOffset) {
  const Generated g = generate(ObjectFormat::kTfRecord, 10, 10000, 2);
  const std::string& buf = g.bytes;
  auto spans = *parse_tfrecord_index(Bytes::copy_of(g.index), "i");
  const std::uint64_t off7 = spans[7].offset;

  // Data CRC: a flipped payload byte of record 7, read through its index by the loader.
  std::string bad_data = buf;
  bad_data[off7 + 12 + 100] ^= 0x20;
  write_file(dir_ / "a.tfrecord", bad_data);
  write_file(dir_ / "a.tfrecord.idx", g.index);
  auto ds = Dataset::tfrecord_records(*Dataset::from_uris({uri("a.tfrecord")}));
  ASSERT_TRUE(ds.ok());
  auto items = load_all(*ds, ObjectFormat::kTfRecord);
  ASSERT_FALSE(items.ok());
  EXPECT_EQ(items.error().code(), ErrorCode::kDataLoss);
  const std::string msg = items.error().to_string();
  EXPECT_NE(msg.find(fmt::format("{}: at byte offset {}: TFRecord data CRC mismatch",
                                 uri("a.tfrecord"), off7)),
            std::string::npos)
      << msg;

  // Length CRC: found by a sequential scan (no index), at the record's offset.
  std::string bad_len = buf;
  bad_len[off7 + 9] ^= 0x01;
  auto scan = scan_tfrecord(Bytes::copy_of(bad_len), "b.tfrecord");
  ASSERT_FALSE(scan.ok());
  EXPECT_NE(scan.error().to_string().find(
                fmt::format("b.tfrecord: at byte offset {}: TFRecord length CRC mismatch", off7)),
            std::string::npos)
      << scan.error().to_string();
  write_file(dir_ / "b.tfrecord", bad_len);  // no index: tfrecord_records scans and refuses
  auto bds = Dataset::tfrecord_records(*Dataset::from_uris({uri("b.tfrecord")}));
  ASSERT_FALSE(bds.ok());
  EXPECT_EQ(bds.error().code(), ErrorCode::kDataLoss);

  // Truncated object: the index names bytes past the end of the last record.
  const std::uint64_t off9 = spans[9].offset;
  write_file(dir_ / "c.tfrecord", std::string_view(buf).substr(0, off9 + 20));
  write_file(dir_ / "c.tfrecord.idx", g.index);
  auto cds = Dataset::tfrecord_records(*Dataset::from_uris({uri("c.tfrecord")}));
  ASSERT_TRUE(cds.ok());
  auto citems = load_all(*cds, ObjectFormat::kTfRecord);
  ASSERT_FALSE(citems.ok());
  EXPECT_EQ(citems.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(citems.error().to_string().find(fmt::format("at byte offset {}", off9)),
            std::string::npos)
      << citems.error().to_string();

  // Every truncation of a record stream inside a record is an error (never a crash or a short read
  // taken as success); so is every flipped byte of the framing.
  for (std::size_t cut = 1; cut < buf.size(); cut += 13) {
    const bool boundary = std::any_of(spans.begin(), spans.end(),
                                      [&](const TfRecordSpan& sp) { return sp.offset == cut; });
    if (boundary) continue;  // a shorter, valid stream
    EXPECT_FALSE(scan_tfrecord(Bytes::copy_of(std::string_view(buf).substr(0, cut)), "t").ok())
        << cut;
  }
  for (std::size_t at = 0; at < 16; ++at) {
    std::string f = buf;
    f[spans[3].offset + (at < 12 ? at : spans[3].size - 16 + at)] ^= 0x10;
    EXPECT_FALSE(scan_tfrecord(Bytes::copy_of(f), "f").ok()) << at;
  }

  // Malformed indexes.
  auto t = parse_tfrecord_index(Bytes::copy_of(std::string("0 30\n30 x\n")), "t.idx",
                                TfRecordIndexFormat::kText);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().to_string().find("t.idx: line 2"), std::string::npos);
  auto b = parse_tfrecord_index(Bytes::copy_of(std::string(17, '\x01')), "b.idx");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().to_string().find("not a multiple of 16"), std::string::npos);
  auto o = parse_tfrecord_index(Bytes::copy_of(std::string("0 30\n20 30\n")), "o.idx");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().to_string().find("overlaps"), std::string::npos);
}

}  // namespace
}  // namespace omnio
