// Streaming op-log reader: read(2) -> optional zstd stream decoding -> lines -> entries.
#include "omnio/op_log_reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "omnio/constants.h"
#include "omnio/op_log.h"

namespace omnio {
namespace {

constexpr unsigned char kZstdMagic[4] = {0x28, 0xB5, 0x2F, 0xFD};

std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    switch (s[++i]) {
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case '\\':
        out += '\\';
        break;
      default:
        out += '\\';
        out += s[i];
    }
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return std::string(s);
}

}  // namespace

struct OpLogReader::Impl {
  std::string path;
  int fd = -1;
  ZSTD_DCtx* zstd = nullptr;
  std::size_t last_zstd_ret = 0;  // 0 when the last frame is complete
  bool eof = false;
  std::vector<char> raw;  // compressed input
  ZSTD_inBuffer in{nullptr, 0, 0};
  std::string pending;  // decoded bytes not yet split into lines
  std::size_t pos = 0;  // start of the next line in pending
  std::uint64_t line_no = 0;
  std::map<std::string, std::size_t> columns;
  std::size_t ncols = 0;
  std::optional<OpLogTrailer> trailer;
  // JSON Lines: one object per line, no header; the first object line is kept until next().
  bool jsonl = false;
  std::optional<std::string> first_json;

  ~Impl() {
    if (zstd != nullptr) ZSTD_freeDCtx(zstd);
    if (fd >= 0) ::close(fd);
  }

  Error line_error(std::string what) const {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("op-log {} line {}: {}", path, line_no, what));
  }

  // Appends more decoded bytes to `pending`; false at the end of the file.
  Result<bool> fill() {
    if (eof) return false;
    if (pos > 0) {
      pending.erase(0, pos);
      pos = 0;
    }
    for (;;) {
      if (in.pos == in.size) {
        raw.resize(kOpLogWriteBufferSize);
        ssize_t n;
        do {
          n = ::read(fd, raw.data(), raw.size());
        } while (n < 0 && errno == EINTR);
        if (n < 0) return errno_error(errno, fmt::format("op-log {}: read", path));
        if (n == 0) {
          eof = true;
          if (zstd != nullptr && last_zstd_ret != 0) {
            return Error(ErrorCode::kDataLoss,
                         fmt::format("op-log {}: the zstd frame is truncated (the writer did not "
                                     "finish it)",
                                     path));
          }
          return false;
        }
        in = ZSTD_inBuffer{raw.data(), static_cast<std::size_t>(n), 0};
        if (zstd == nullptr) {
          pending.append(raw.data(), static_cast<std::size_t>(n));
          in.pos = in.size;
          return true;
        }
      }
      if (zstd == nullptr) continue;
      const std::size_t before = pending.size();
      pending.resize(before + ZSTD_DStreamOutSize());
      ZSTD_outBuffer out{pending.data() + before, ZSTD_DStreamOutSize(), 0};
      const std::size_t r = ZSTD_decompressStream(zstd, &out, &in);
      pending.resize(before + out.pos);
      if (ZSTD_isError(r)) {
        return Error(ErrorCode::kDataLoss,
                     fmt::format("op-log {}: corrupt zstd data: {}", path, ZSTD_getErrorName(r)));
      }
      last_zstd_ret = r;
      if (out.pos > 0) return true;
    }
  }

  // The next line without its '\n'; nullopt at the end.
  Result<std::optional<std::string_view>> next_line() {
    for (;;) {
      const auto nl = pending.find('\n', pos);
      if (nl != std::string::npos) {
        std::string_view line(pending.data() + pos, nl - pos);
        pos = nl + 1;
        ++line_no;
        return std::optional<std::string_view>(line);
      }
      OMNIO_ASSIGN_OR_RETURN(bool more, fill());
      if (!more) {
        if (pos < pending.size()) {  // last line without '\n'
          std::string_view line(pending.data() + pos, pending.size() - pos);
          pos = pending.size();
          ++line_no;
          return std::optional<std::string_view>(line);
        }
        return std::optional<std::string_view>();
      }
    }
  }

  Status read_header() {
    for (;;) {
      OMNIO_ASSIGN_OR_RETURN(auto line, next_line());
      if (!line) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("op-log {}: empty file (no header line)", path));
      }
      if (line->empty() || line->front() == '#') continue;
      if (line->front() == '{') {  // JSON Lines: every line names its own fields
        jsonl = true;
        first_json = std::string(*line);
        return ok_status();
      }
      std::size_t i = 0;
      std::string_view rest = *line;
      for (;;) {
        const auto tab = rest.find('\t');
        std::string name = lower(trim(rest.substr(0, tab)));
        if (name == "operation") name = "op";
        if (name == "t_start") name = "start";
        columns.emplace(name, i++);
        if (tab == std::string_view::npos) break;
        rest.remove_prefix(tab + 1);
      }
      ncols = i;
      for (const char* need : {"op", "endpoint", "file", "start"}) {
        if (!columns.count(need)) {
          return line_error(fmt::format(
              "the header has no '{}' column (expected the 13 columns idx thread op client_id "
              "n_objects bytes endpoint file error start first_byte end duration_ns)",
              need));
        }
      }
      return ok_status();
    }
  }

  // One JSON Lines record: the TSV column names as keys ("operation" and "t_start" are aliases),
  // numbers as JSON numbers or decimal strings, times as RFC 3339 strings.
  Result<std::optional<OpLogEntry>> parse_json(std::string_view line) const {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return line_error("not a JSON object");
    auto field = [&](const char* name, const char* alias) -> const nlohmann::json* {
      for (const char* k : {name, alias}) {
        if (k == nullptr) continue;
        auto it = j.find(k);
        if (it != j.end() && !it->is_null()) return &*it;
      }
      return nullptr;
    };
    auto text = [&](const char* name, const char* alias, std::string& out) -> Status {
      const nlohmann::json* v = field(name, alias);
      if (v == nullptr) return ok_status();
      if (!v->is_string()) return line_error(fmt::format("field {}: expected a string", name));
      out = v->get<std::string>();
      return ok_status();
    };
    auto number = [&](const char* name, std::uint64_t& out) -> Status {
      const nlohmann::json* v = field(name, nullptr);
      if (v == nullptr) return ok_status();
      if (v->is_number_unsigned()) {
        out = v->get<std::uint64_t>();
        return ok_status();
      }
      if (v->is_string()) {
        const std::string& str = v->get_ref<const std::string&>();
        if (str.empty()) return ok_status();
        auto [p, ec] = std::from_chars(str.data(), str.data() + str.size(), out);
        if (ec == std::errc() && p == str.data() + str.size()) return ok_status();
      }
      return line_error(fmt::format("field {}: {} is not a non-negative integer", name, v->dump()));
    };
    auto time = [&](const char* name, const char* alias) -> Result<std::optional<std::int64_t>> {
      std::string v;
      OMNIO_TRY(text(name, alias, v));
      if (v.empty()) return std::optional<std::int64_t>();
      auto t = parse_rfc3339_ns(v);
      if (!t.ok()) return line_error(fmt::format("field {}: {}", name, t.error().message()));
      return std::optional<std::int64_t>(*t);
    };
    OpLogEntry e;
    e.line = line_no;
    e.idx = line_no;
    OMNIO_TRY(number("idx", e.idx));
    OMNIO_TRY(number("n_objects", e.n_objects));
    OMNIO_TRY(number("bytes", e.bytes));
    OMNIO_TRY(text("op", "operation", e.op));
    for (char& c : e.op) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (e.op.empty()) return line_error("no op (expected an \"op\" field)");
    OMNIO_TRY(text("endpoint", nullptr, e.endpoint));
    OMNIO_TRY(text("file", nullptr, e.file));
    if (e.endpoint.empty() && e.file.empty()) {
      return line_error("no endpoint or file (expected \"endpoint\" and \"file\" fields)");
    }
    OMNIO_TRY(text("error", nullptr, e.error));
    OMNIO_ASSIGN_OR_RETURN(auto start, time("start", "t_start"));
    if (!start) return line_error("no start time (expected \"start\": RFC 3339)");
    e.start_ns = *start;
    OMNIO_ASSIGN_OR_RETURN(e.first_byte_ns, time("first_byte", nullptr));
    OMNIO_ASSIGN_OR_RETURN(e.end_ns, time("end", nullptr));
    if (field("duration_ns", nullptr) != nullptr) {
      std::uint64_t dur = 0;
      OMNIO_TRY(number("duration_ns", dur));
      e.duration_ns = static_cast<std::int64_t>(dur);
    }
    return std::optional<OpLogEntry>(std::move(e));
  }

  void parse_trailer(std::string_view line) {
    constexpr std::string_view kPrefix = "# omnio-op-log ";
    if (line.substr(0, kPrefix.size()) != kPrefix) return;
    OpLogTrailer t;
    unsigned long long rec = 0, drop = 0;
    if (std::sscanf(std::string(line).c_str(), "# omnio-op-log records=%llu dropped=%llu", &rec,
                    &drop) == 2) {
      t.records = rec;
      t.dropped = drop;
      trailer = t;
    }
  }
};

OpLogReader::OpLogReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OpLogReader::OpLogReader(OpLogReader&&) noexcept = default;
OpLogReader& OpLogReader::operator=(OpLogReader&&) noexcept = default;
OpLogReader::~OpLogReader() = default;

Result<OpLogReader> OpLogReader::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (impl->fd < 0) return errno_error(errno, fmt::format("op-log {}: open", path));
  // Sniff the zstd magic from the first bytes.
  impl->raw.resize(kOpLogWriteBufferSize);
  ssize_t n;
  do {
    n = ::read(impl->fd, impl->raw.data(), impl->raw.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno_error(errno, fmt::format("op-log {}: read", path));
  if (n >= 4 && std::equal(kZstdMagic, kZstdMagic + 4,
                           reinterpret_cast<const unsigned char*>(impl->raw.data()))) {
    impl->zstd = ZSTD_createDCtx();
    if (impl->zstd == nullptr) {
      return Error(ErrorCode::kResourceExhausted, "op-log: cannot create a zstd context");
    }
    impl->in = ZSTD_inBuffer{impl->raw.data(), static_cast<std::size_t>(n), 0};
  } else {
    impl->pending.assign(impl->raw.data(), static_cast<std::size_t>(n));
    if (n == 0) impl->eof = true;
  }
  OMNIO_TRY(impl->read_header());
  return OpLogReader(std::move(impl));
}

const std::optional<OpLogTrailer>& OpLogReader::trailer() const { return impl_->trailer; }

Result<std::optional<OpLogEntry>> OpLogReader::next() {
  Impl& im = *impl_;
  for (;;) {
    std::optional<std::string_view> line;
    std::string held;
    if (im.first_json) {
      held = std::move(*im.first_json);
      im.first_json.reset();
      line = held;
    } else {
      OMNIO_ASSIGN_OR_RETURN(line, im.next_line());
    }
    if (!line) return std::optional<OpLogEntry>();
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    if (line->empty()) continue;
    if (line->front() == '#') {
      im.parse_trailer(*line);
      continue;
    }
    if (im.jsonl) return im.parse_json(*line);
    std::vector<std::string_view> f;
    f.reserve(im.ncols);
    std::string_view rest = *line;
    for (;;) {
      const auto tab = rest.find('\t');
      f.push_back(rest.substr(0, tab));
      if (tab == std::string_view::npos) break;
      rest.remove_prefix(tab + 1);
    }
    if (f.size() != im.ncols) {
      return im.line_error(
          fmt::format("expected {} tab-separated fields, found {}", im.ncols, f.size()));
    }
    auto col = [&](const char* name) -> std::optional<std::string_view> {
      auto it = im.columns.find(name);
      if (it == im.columns.end()) return std::nullopt;
      return f[it->second];
    };
    auto number = [&](const char* name, std::uint64_t& out) -> Status {
      auto v = col(name);
      if (!v || v->empty()) return ok_status();
      auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
      if (ec != std::errc() || p != v->data() + v->size()) {
        return im.line_error(
            fmt::format("column {}: '{}' is not a non-negative integer", name, *v));
      }
      return ok_status();
    };
    auto time = [&](const char* name) -> Result<std::optional<std::int64_t>> {
      auto v = col(name);
      if (!v || v->empty()) return std::optional<std::int64_t>();
      auto t = parse_rfc3339_ns(*v);
      if (!t.ok()) return im.line_error(fmt::format("column {}: {}", name, t.error().message()));
      return std::optional<std::int64_t>(*t);
    };
    OpLogEntry e;
    e.line = im.line_no;
    e.idx = im.line_no;
    OMNIO_TRY(number("idx", e.idx));
    OMNIO_TRY(number("n_objects", e.n_objects));
    OMNIO_TRY(number("bytes", e.bytes));
    e.op = std::string(*col("op"));
    for (char& c : e.op) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (e.op.empty()) return im.line_error("empty op");
    e.endpoint = unescape(*col("endpoint"));
    e.file = unescape(*col("file"));
    if (auto v = col("error")) e.error = unescape(*v);
    OMNIO_ASSIGN_OR_RETURN(auto start, time("start"));
    if (!start) return im.line_error("empty start time");
    e.start_ns = *start;
    OMNIO_ASSIGN_OR_RETURN(e.first_byte_ns, time("first_byte"));
    OMNIO_ASSIGN_OR_RETURN(e.end_ns, time("end"));
    std::uint64_t dur = 0;
    if (auto v = col("duration_ns"); v && !v->empty()) {
      OMNIO_TRY(number("duration_ns", dur));
      e.duration_ns = static_cast<std::int64_t>(dur);
    }
    return std::optional<OpLogEntry>(std::move(e));
  }
}

}  // namespace omnio
