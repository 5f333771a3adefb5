// file:// and direct:// stores: local files through pread/pwrite, optionally O_DIRECT.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "omnio/file_system_config.h"
#include "omnio/object_store.h"

namespace omnio {

/// A local store. direct_scheme=true serves direct:// (listings return direct:// URIs), false
/// serves file://. Both accept either local scheme in requests.
Result<std::shared_ptr<ObjectStore>> make_file_store(const FileSystemConfig& config,
                                                     bool direct_scheme);

/// O_DIRECT alignment for files under `dir`: the device's logical block size (sysfs), else the page
/// size; a power of two in [kMinDirectIoAlignment, kMaxDirectIoAlignment], else
/// kDefaultDirectIoAlignment.
std::size_t detect_direct_io_alignment(const std::string& dir);

/// How often any store of this process used buffered I/O because O_DIRECT was refused.
std::uint64_t direct_io_fallback_count();

/// Which paths a local store took (tests and benchmarks assert on these).
struct FileStoreStats {
  std::uint64_t engine_gets = 0;   ///< whole-object gets through the RangeEngine
  std::uint64_t simple_gets = 0;   ///< whole-object gets through the simple loop
  std::uint64_t direct_reads = 0;  ///< reads that used O_DIRECT
  std::uint64_t buffered_reads = 0;
  std::uint64_t batched_reads = 0;  ///< files read whole by get_batch's io_uring submissions
  /// files a batch found larger than their buffer (its size hint), read again whole
  std::uint64_t batch_rereads = 0;
};
/// Stats of a store made by make_file_store (zeros for other stores).
FileStoreStats file_store_stats(const ObjectStore& store);

namespace testing {
/// Makes every O_DIRECT open fail with EINVAL, as on file systems without O_DIRECT (tests only).
void simulate_no_direct_io(bool on);
/// Makes file:// stores report reads_in_batches() false, so get_batch reads one file at a time
/// (tests and A/B benchmarks of the io_uring path).
void disable_batched_file_reads(bool on);
/// Whether this process may use io_uring for batched file reads (false where the kernel or a
/// seccomp profile refuses it: batches then read one file at a time).
bool batched_file_reads_available();
}  // namespace testing

}  // namespace omnio
