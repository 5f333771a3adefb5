// Reading record formats inside objects: NumPy .npy / .npz arrays and TFRecord records with their
// indexes (the writers are in omnio/formats.h).
//
// Every parser verifies what the format lets it verify and fails with kDataLoss (corrupt or
// truncated data: bad magic, CRC mismatch, sizes that do not add up) or kUnimplemented (a valid
// feature omnio does not read: object arrays, zip encryption, compression other than deflate);
// the message names the object and the byte offset of the problem.
//
// - npy: versions 1.0, 2.0, 3.0; simple dtypes ('<f4', '|u1', '>i8', '|b1', '<U10', ...), any
//   shape, C or Fortran order. The array's bytes are a zero-copy slice of the object.
// - npz: a zip archive of .npy entries (numpy.savez / savez_compressed), zip64 included; entries
//   stored (zero-copy) or deflated (inflated with ISA-L); the CRC-32 of every entry is checked.
// - tfrecord: per record: uint64 length (LE), masked CRC-32C of those 8 bytes, data, masked
//   CRC-32C of the data. Indexes: DALI text ("offset size\n" per record) or binary (16 bytes per
//   record: uint64 LE offset, uint64 LE size); size counts the 16 framing bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "omnio/bytes.h"
#include "omnio/result.h"

namespace omnio {

/// One NumPy array.
struct NpyArray {
  /// Name inside an .npz without ".npy" ("arr_0", "x"); empty for a bare .npy.
  std::string name;
  /// NumPy's type string as stored: byte order ('<', '>', '|'), kind, item size ("<f4").
  std::string dtype;
  /// Bytes per element (4 for '<f4', 40 for '<U10').
  std::size_t item_size = 0;
  std::vector<std::uint64_t> shape;
  bool fortran_order = false;
  /// product(shape) * item_size bytes, exactly: a slice of the object for .npy and stored npz
  /// entries, a buffer of its own for deflated ones.
  Bytes data;

  std::uint64_t element_count() const;
};

/// Parses one .npy held in `object`. `name` (the object's URI) appears in errors; `base_offset` is
/// added to the offsets errors report (the entry's place inside an .npz).
Result<NpyArray> parse_npy(const Bytes& object, std::string_view name,
                           std::uint64_t base_offset = 0);

/// Every .npy entry of an .npz held in `object`, in central-directory order. Entries whose names
/// do not end in ".npy" are an error (numpy writes only those).
Result<std::vector<NpyArray>> parse_npz(const Bytes& object, std::string_view name);

/// Where one record sits in a TFRecord object: `size` counts the 16 framing bytes.
struct TfRecordSpan {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  friend bool operator==(const TfRecordSpan&, const TfRecordSpan&) = default;
};

enum class TfRecordIndexFormat {
  kAuto,    ///< text when every byte is a digit or whitespace, binary otherwise
  kText,    ///< DALI: "offset size" per line
  kBinary,  ///< 16 bytes per record: uint64 LE offset, uint64 LE size
};

/// Parses an index (`name` = its URI, for errors). kDataLoss on a malformed line (naming it) or a
/// binary index whose size is not a multiple of 16, on sizes below 16 or overlapping records.
Result<std::vector<TfRecordSpan>> parse_tfrecord_index(
    const Bytes& index, std::string_view name,
    TfRecordIndexFormat format = TfRecordIndexFormat::kAuto);

/// The binary index of these records (16 bytes each).
std::string tfrecord_index_binary(std::span<const TfRecordSpan> records);

/// Verifies one framed record (`framed` = exactly the record's bytes, read at `offset` of the
/// object `name`) and returns its data as a zero-copy slice. kDataLoss naming the object and the
/// offset on a short record, a length CRC or data CRC mismatch, or a length that disagrees with
/// the framed size.
Result<Bytes> tfrecord_record_data(const Bytes& framed, std::string_view name,
                                   std::uint64_t offset);

/// Walks a whole TFRecord object, verifying both CRCs of every record: the records' spans (an
/// index built by reading).
Result<std::vector<TfRecordSpan>> scan_tfrecord(const Bytes& object, std::string_view name);

/// Every record's data, in order (sequential read of a whole object), CRCs verified.
Result<std::vector<Bytes>> read_tfrecords(const Bytes& object, std::string_view name);

}  // namespace omnio
