// Small helpers shared by the benchmark programs (header-only; bench/ is not part of the library).
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace omnio::bench {

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Peak resident set size of this process, KiB.
inline long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/// --key value pairs; a bare --flag maps to "1".
inline std::map<std::string, std::string> parse_args(int argc, char** argv) {
  std::map<std::string, std::string> m;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) continue;
    k = k.substr(2);
    if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      m[k] = argv[++i];
    } else {
      m[k] = "1";
    }
  }
  return m;
}

/// "64MiB" / "2GiB" / "512KiB" / plain bytes.
inline std::uint64_t parse_bytes(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string u(end);
  std::uint64_t mult = 1;
  if (u == "KiB" || u == "k" || u == "K") mult = 1ull << 10;
  else if (u == "MiB" || u == "m" || u == "M") mult = 1ull << 20;
  else if (u == "GiB" || u == "g" || u == "G") mult = 1ull << 30;
  return static_cast<std::uint64_t>(v * static_cast<double>(mult));
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace omnio::bench
