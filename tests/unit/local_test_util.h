// Helpers for local-store unit tests: a temp directory on the build tree's file system (ext4 here,
// so O_DIRECT works) and deterministic data.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "omnio/bytes.h"

namespace omnio::testutil {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> n{0};
    path_ = std::filesystem::current_path().string() + "/unit-tmp-" + std::to_string(::getpid()) +
            "-" + std::to_string(n++);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::vector<std::byte> pattern(std::size_t n, std::uint64_t seed = 7) {
  std::vector<std::byte> v(n);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 12345;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    v[i] = std::byte(x >> 32);
  }
  return v;
}

inline void write_file(const std::string& path, const std::vector<std::byte>& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t r = ::write(fd, data.data() + done, data.size() - done);
    if (r <= 0) break;
    done += static_cast<std::size_t>(r);
  }
  ::close(fd);
}

inline std::vector<std::byte> read_file(const std::string& path) {
  std::vector<std::byte> out;
  int fd = ::open(path.c_str(), O_RDONLY);
  std::byte buf[65536];
  ssize_t r;
  while ((r = ::read(fd, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + r);
  ::close(fd);
  return out;
}

inline bool equal(const Bytes& b, const std::vector<std::byte>& v) {
  return b.size() == v.size() && std::equal(v.begin(), v.end(), b.data());
}

}  // namespace omnio::testutil
