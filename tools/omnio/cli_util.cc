#include "cli_util.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "omnio/constants.h"
#include "omnio/units.h"
#include "omnio/uri.h"

namespace omnio::cli {

Result<std::string> to_uri(const std::string& arg) {
  if (arg.find("://") != std::string::npos) {
    OMNIO_TRY(scheme_of(arg));
    return arg;
  }
  if (arg.empty()) return Error(ErrorCode::kInvalidArgument, "empty path");
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(arg, ec);
  if (ec)
    return Error(ErrorCode::kInvalidArgument, fmt::format("bad path '{}': {}", arg, ec.message()));
  std::string s = p.lexically_normal().string();
  if (arg.back() == '/' && s.back() != '/') s += '/';
  return "file://" + s;
}

Result<std::uint64_t> parse_size(const std::string& text, const std::string& what) {
  return omnio::parse_byte_size(text, what);
}

std::string human_bytes(double b) { return omnio::format_bytes(b); }

CancellationToken& interrupt_token() {
  static CancellationToken t;
  return t;
}

namespace {

std::atomic<bool> g_interrupted{false};
std::mutex g_finisher_mu;
std::function<void()> g_finisher;
}  // namespace

void set_interrupt_finisher(std::function<void()> fn) {
  std::lock_guard lock(g_finisher_mu);
  g_finisher = std::move(fn);
}

void install_signal_handlers() {
  std::signal(SIGPIPE, SIG_IGN);
  // The handler only sets a flag (async-signal-safe); a watcher thread turns it into a cancel and,
  // if the command has not returned after the grace period, finishes the op-log and exits 130.
  auto handler = +[](int) { g_interrupted.store(true); };
  std::signal(SIGINT, handler);
  std::signal(SIGTERM, handler);
  static std::jthread watcher([](std::stop_token st) {
    constexpr auto kPoll = std::chrono::milliseconds(20);
    // The sleeps end at once when the thread is asked to stop: it is joined on every command's
    // way out (a plain 20 ms sleep made each exit wait ~10 ms on average).
    while (!st.stop_requested() && !g_interrupted.load()) sleep_unless_stopped(st, kPoll);
    if (st.stop_requested()) return;
    interrupt_token().cancel();
    const auto deadline = std::chrono::steady_clock::now() + kCliInterruptGrace;
    while (!st.stop_requested() && std::chrono::steady_clock::now() < deadline) {
      sleep_unless_stopped(st, kPoll);
    }
    if (st.stop_requested()) return;
    {
      std::lock_guard lock(g_finisher_mu);
      if (g_finisher) g_finisher();
    }
    std::fflush(stdout);
    std::_Exit(130);
  });
}

namespace {
std::atomic<bool> g_partial{false};
}  // namespace

void mark_partial_failure() { g_partial.store(true); }
bool partial_failure() { return g_partial.load(); }

Result<bool> write_stdout(const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t r = ::write(STDOUT_FILENO, p, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) return false;
      return errno_error(errno, "write to stdout");
    }
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

Progress::Progress(std::string label, std::optional<std::uint64_t> total, const Globals& g)
    : label_(std::move(label)),
      start_(std::chrono::steady_clock::now()),
      enabled_(!g.quiet && !g.no_progress && !g.json && ::isatty(STDERR_FILENO)) {
  total_ = total.value_or(0);
  if (enabled_) {
    thread_ = std::jthread([this](std::stop_token st) {
      while (!st.stop_requested()) {
        sleep_unless_stopped(st, kProgressInterval);
        if (!st.stop_requested()) draw(false);
      }
    });
  }
}

Progress::~Progress() { finish(); }

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::finish() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

void Progress::draw(bool) {
  const double s = seconds();
  const double done = static_cast<double>(done_.load());
  const double rate = s > 0 ? done / s : 0;
  const std::uint64_t total = total_.load();
  std::string line = fmt::format("{}: {} ({}/s", label_, human_bytes(done), human_bytes(rate));
  if (objects_.load() > 0) line += fmt::format(", {} objects", objects_.load());
  if (listing_.load()) {
    line += fmt::format(", of >= {} listed so far", human_bytes(static_cast<double>(total)));
  } else if (total > 0 && rate > 0) {
    const double pct = 100.0 * done / static_cast<double>(total);
    const double eta = (static_cast<double>(total) - done) / rate;
    line += fmt::format(", {:.0f}% of {}, ETA {:.0f}s", pct,
                        human_bytes(static_cast<double>(total)), eta);
  }
  line += ")";
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

Config& cli_config() {
  static Config config;
  return config;
}

}  // namespace omnio::cli
