// Helpers for op-log tests: read a log (decoding zstd with libzstd and checking the frame is
// complete), split it into lines and fields.
#pragma once

#include <gtest/gtest.h>
#include <zstd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace omnio::testutil {

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// The log's text. For a zstd file, sets `complete` to whether it is exactly one finished frame.
inline std::string read_log_text(const std::string& path, bool* complete = nullptr) {
  std::string raw = slurp(path);
  if (raw.size() < 4 || static_cast<unsigned char>(raw[0]) != 0x28) {
    if (complete) *complete = true;
    return raw;
  }
  ZSTD_DCtx* d = ZSTD_createDCtx();
  std::string out;
  ZSTD_inBuffer in{raw.data(), raw.size(), 0};
  std::size_t last = 1;
  std::vector<char> buf(ZSTD_DStreamOutSize());
  while (in.pos < in.size) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(d, &o, &in);
    if (ZSTD_isError(last)) break;
    out.append(buf.data(), o.pos);
  }
  ZSTD_freeDCtx(d);
  if (complete) {
    *complete = !ZSTD_isError(last) && last == 0 &&
                ZSTD_findFrameCompressedSize(raw.data(), raw.size()) == raw.size();
  }
  return out;
}

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

/// Data lines (not the header, not '#' lines), each split into its fields.
inline std::vector<std::vector<std::string>> log_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  auto lines = split(text, '\n');
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty() || lines[i][0] == '#') continue;
    auto f = split(lines[i] + "\t", '\t');
    // split() drops a trailing empty field; the appended tab keeps the count exact.
    rows.push_back(f);
  }
  return rows;
}

}  // namespace omnio::testutil
