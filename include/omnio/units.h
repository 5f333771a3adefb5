// Byte sizes as people write them: parsing "8MiB" / "2g" / "4096" and printing "1.50 GiB".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "omnio/result.h"

namespace omnio {

/// A number with an optional unit: k/m/g/t (powers of 1000) or ki/mi/gi/ti (powers of 1024), an
/// optional trailing b, any case, '_' allowed between digits. kInvalidArgument names `what` (the
/// flag or variable), the text, and what is expected.
Result<std::uint64_t> parse_byte_size(std::string_view text, std::string_view what);

/// "512 B", "8.00 MiB", "1.50 GiB".
std::string format_bytes(double bytes);

}  // namespace omnio
