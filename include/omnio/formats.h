// Object formats for generated data: raw bytes, NumPy .npy / .npz, and TFRecord with its DALI
// index. A FormattedGenerator wraps the data generator's payload in a container whose headers and
// checksums are exact, filling a whole buffer in one pass or streaming in chunks of any size (the
// same bytes either way).
//
// Layouts (the payload is the generator's stream of DataGenOptions::size bytes, cut into
// `samples` consecutive slices whose sizes differ by at most one byte, larger ones first):
// - raw:      the payload.
// - npy:      NPY v1.0 header, dtype '|u1' (bytes), shape (payload,), C order, then the payload:
//             one byte per element, so any size maps exactly (the original declared `size`
//             elements of a wider dtype over `size` bytes). samples must be 1.
// - npz:      a zip archive of `samples` stored (uncompressed) entries arr_0.npy ... arr_{n-1}.npy,
//             each an npy of one slice, as numpy.savez names positional arrays; CRC-32 and sizes in
//             every local header and the central directory; zip64 records when any size or offset
//             needs them (or when forced).
// - tfrecord: one record per slice: uint64 length (little endian), masked CRC-32C of those 8
//             bytes, the slice, masked CRC-32C of the slice. The index (tfrecord_index) is DALI's
//             text format: "offset size" per record, size counting the 16 framing bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "omnio/datagen.h"
#include "omnio/result.h"

namespace omnio {

/// Bytes a TFRecord adds around each record's data: length (8), its masked CRC (4), data CRC (4).
inline constexpr std::uint64_t kTfRecordFramingBytes = 16;

/// A container for generated payloads.
enum class ObjectFormat { kRaw, kNpy, kNpz, kTfRecord };

/// "raw", "npy", "npz", "tfrecord" -> the format; kInvalidArgument listing the accepted names.
Result<ObjectFormat> parse_object_format(std::string_view name);
/// The format's name as parse_object_format accepts it.
std::string_view object_format_name(ObjectFormat format);
/// Conventional file extension including the dot (".dat" for raw).
std::string_view object_format_extension(ObjectFormat format);

/// How generated data is wrapped.
struct FormatOptions {
  /// Container. Default raw.
  ObjectFormat format = ObjectFormat::kRaw;
  /// Arrays (npz entries) or records (tfrecord) per object; 1 for raw and npy. Default 1.
  std::uint64_t samples = 1;
  /// npz: write zip64 records even when the archive does not need them (tests, and readers that
  /// want one layout for every size). Default false.
  bool force_zip64 = false;
};

/// The NPY v1.0 header for `payload` bytes of dtype '|u1', shape (payload,): magic, version,
/// header length and the dict, space-padded and newline-terminated so that the data starts at a
/// multiple of 64 bytes.
std::string npy_header(std::uint64_t payload);

/// TFRecord's mask of a CRC-32C: ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2^32).
std::uint32_t mask_crc32c(std::uint32_t crc);

/// zip's CRC-32 (IEEE 802.3, reflected, as zlib's crc32): extends `crc` (0 to start) with `data`.
std::uint32_t crc32_ieee_update(std::uint32_t crc, std::span<const std::byte> data);

/// DALI's TFRecord index for records of these payload sizes, laid out back to back from offset 0:
/// one line "offset size\n" per record.
std::string tfrecord_index(std::span<const std::uint64_t> payload_sizes);

/// Generated data in a container. Not thread-safe (one per object); cheap to create.
class FormattedGenerator {
 public:
  /// Validates both option sets (kInvalidArgument naming the field) and lays out the object.
  /// payload.size is the payload (array or record data) in bytes; the object is larger by its
  /// headers (size()).
  static Result<FormattedGenerator> create(const FormatOptions& format,
                                           const DataGenOptions& payload);

  /// Total object bytes: headers + payload + trailers.
  std::uint64_t size() const { return size_; }
  /// Payload bytes of each sample, in order.
  const std::vector<std::uint64_t>& sample_sizes() const { return samples_; }
  /// DALI index of this object (tfrecord); empty for other formats.
  std::string index() const;

  /// Writes the whole object into dest (dest.size() == size(), kInvalidArgument otherwise) in one
  /// pass: payload generated in place (in parallel when large), checksums computed over it there.
  Status fill_all(std::span<std::byte> dest);

  /// Streaming form: the next min(dest.size(), remaining) bytes, identical to fill_all's. Formats
  /// whose headers hold a checksum of later data (npz) generate the payload once more on the
  /// first call to compute it, through a kFormatScratchSize buffer.
  Result<std::size_t> fill(std::span<std::byte> dest);
  /// Bytes produced by fill() so far.
  std::uint64_t position() const { return position_; }

 private:
  // One contiguous run of the object: literal bytes, or a slice of the payload stream.
  struct Piece {
    std::uint64_t offset = 0;  // in the object
    std::string literal;       // used when !is_payload
    bool is_payload = false;
    std::uint64_t payload_offset = 0, length = 0;
    std::int64_t trailer_of = -1;  // tfrecord: the data CRC of this record, rendered when reached
  };
  FormattedGenerator() = default;
  void lay_out();  // pieces_ from samples_ and crcs_
  Status compute_crcs_streaming();
  Status compute_crcs_in(std::span<const std::byte> object);

  FormatOptions format_;
  DataGenOptions payload_;
  std::vector<std::uint64_t> samples_;
  std::vector<std::uint32_t> crcs_;  // npz: CRC-32 per entry; tfrecord: CRC-32C per record
  bool crcs_known_ = false;
  std::vector<Piece> pieces_;
  std::uint64_t size_ = 0;
  std::uint64_t position_ = 0;
  std::size_t piece_ = 0;          // fill(): current piece
  std::uint32_t running_crc_ = 0;  // fill(): CRC-32C of the tfrecord payload piece so far
  std::optional<DataGenerator> stream_;
};

}  // namespace omnio
