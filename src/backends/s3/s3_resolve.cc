#include "backends/s3/s3_resolve.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "omnio/constants.h"
#include "omnio/env.h"

namespace omnio::s3 {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

std::string home_path(std::string_view rel) {
  auto home = env::get("HOME");
  return home ? *home + "/" + std::string(rel) : std::string();
}

struct Profile {
  std::string name;
  bool explicit_choice = false;
  std::string credentials_path;
  std::string config_path;
  IniFile credentials;
  IniFile config;
  bool credentials_loaded = false;
  bool config_loaded = false;

  const std::map<std::string, std::string>* cred_section() const {
    auto it = credentials.find(name);
    return it == credentials.end() ? nullptr : &it->second;
  }
  const std::map<std::string, std::string>* config_section() const {
    auto it = config.find(name == "default" ? "default" : "profile " + name);
    if (it == config.end() && name == "default") it = config.find("profile default");
    return it == config.end() ? nullptr : &it->second;
  }
  std::string config_value(const std::string& key) const {
    if (const auto* s = config_section()) {
      auto it = s->find(key);
      if (it != s->end()) return it->second;
    }
    return {};
  }
};

Profile load_profile(const S3Config& c) {
  Profile p;
  if (!c.profile.empty()) {
    p.name = c.profile;
    p.explicit_choice = true;
  } else if (auto v = env::get("AWS_PROFILE")) {
    p.name = *v;
    p.explicit_choice = true;
  } else {
    p.name = "default";
  }
  p.credentials_path =
      env::get("AWS_SHARED_CREDENTIALS_FILE").value_or(home_path(".aws/credentials"));
  p.config_path = env::get("AWS_CONFIG_FILE").value_or(home_path(".aws/config"));
  std::string text;
  if (!p.credentials_path.empty() && read_file(p.credentials_path, &text)) {
    p.credentials = parse_ini(text);
    p.credentials_loaded = true;
  }
  if (!p.config_path.empty() && read_file(p.config_path, &text)) {
    p.config = parse_ini(text);
    p.config_loaded = true;
  }
  return p;
}

Status split_endpoint(const std::string& url, Resolved* r) {
  auto bad = [&](std::string_view why) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("S3 endpoint '{}' {}: expected http(s)://host[:port], e.g. "
                             "http://127.0.0.1:9000",
                             url, why));
  };
  auto sep = url.find("://");
  if (sep == std::string::npos) return bad("has no scheme");
  r->endpoint_scheme = url.substr(0, sep);
  if (r->endpoint_scheme != "http" && r->endpoint_scheme != "https")
    return bad("has an unsupported scheme");
  std::string rest = url.substr(sep + 3);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty()) return bad("has no host");
  if (rest.find('/') != std::string::npos) return bad("has a path (not supported)");
  r->endpoint_host = rest;
  r->endpoint = r->endpoint_scheme + "://" + rest;
  return ok_status();
}

}  // namespace

IniFile parse_ini(std::string_view text) {
  IniFile out;
  std::string section;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view raw =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    if (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) continue;  // nested section
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    // "[name]", possibly followed by a comment (as the AWS CLI's configparser reads it).
    if (std::size_t close = line.rfind(']');
        line.front() == '[' && close != std::string_view::npos) {
      section = std::string(trim(line.substr(1, close - 1)));
      out[section];
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string_view::npos || section.empty()) continue;
    std::string key(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    if (!value.empty()) out[section][key] = value;  // "s3 =" opens a nested block: skip
  }
  return out;
}

Result<Resolved> resolve(const S3Config& c) {
  Resolved r;
  Profile p = load_profile(c);
  const auto* cred = p.cred_section();
  const auto* conf = p.config_section();
  if (p.explicit_choice && cred == nullptr && conf == nullptr) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("AWS profile '{}' is in neither {} ({}) nor {} ({})", p.name,
                             p.credentials_path, p.credentials_loaded ? "read" : "not found",
                             p.config_path, p.config_loaded ? "read" : "not found"));
  }

  // Credentials.
  if (!c.access_key_id.empty() || !c.secret_access_key.empty()) {
    if (c.access_key_id.empty() || c.secret_access_key.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "s3.access_key_id and s3.secret_access_key must be given together");
    }
    r.credentials = {c.access_key_id, c.secret_access_key, c.session_token};
    r.credentials_source = "config";
  } else if (auto id = env::get("AWS_ACCESS_KEY_ID"), secret = env::get("AWS_SECRET_ACCESS_KEY");
             id || secret) {
    if (!id || !secret) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("{} is set but {} is not: set both (or neither, to use the shared "
                               "credentials file)",
                               id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                               id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID"));
    }
    r.credentials = {*id, *secret, env::get("AWS_SESSION_TOKEN").value_or("")};
    r.credentials_source = "env";
  } else {
    auto from = [&](const std::map<std::string, std::string>* s, const std::string& path) {
      if (s == nullptr) return false;
      auto a = s->find("aws_access_key_id");
      auto b = s->find("aws_secret_access_key");
      if (a == s->end() || b == s->end()) return false;
      auto t = s->find("aws_session_token");
      r.credentials = {a->second, b->second, t == s->end() ? "" : t->second};
      r.credentials_source = fmt::format("shared file {} [{}]", path, p.name);
      return true;
    };
    if (!from(cred, p.credentials_path) && !from(conf, p.config_path)) {
      r.credentials_source = "none";
      r.missing_credentials_hint = fmt::format(
          "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put profile "
          "[{}] in {} (instance metadata is not consulted)",
          p.name, p.credentials_path.empty() ? "~/.aws/credentials" : p.credentials_path);
    }
  }

  // Region.
  if (!c.region.empty()) {
    r.region = c.region;
    r.region_source = "config";
  } else if (auto v = env::get("AWS_REGION")) {
    r.region = *v;
    r.region_source = "env AWS_REGION";
  } else if (auto d = env::get("AWS_DEFAULT_REGION")) {
    r.region = *d;
    r.region_source = "env AWS_DEFAULT_REGION";
  } else if (std::string pr = p.config_value("region"); !pr.empty()) {
    r.region = pr;
    r.region_source = fmt::format("profile {}", p.name);
  } else {
    r.region = kDefaultS3Region;
    r.region_source = "default";
  }

  // Endpoint.
  std::string ep;
  if (!c.endpoint.empty()) {
    ep = c.endpoint;
    r.endpoint_source = "config";
  } else if (auto v = env::get("AWS_ENDPOINT_URL_S3")) {
    ep = *v;
    r.endpoint_source = "env AWS_ENDPOINT_URL_S3";
  } else if (auto u = env::get("AWS_ENDPOINT_URL")) {
    ep = *u;
    r.endpoint_source = "env AWS_ENDPOINT_URL";
  } else if (std::string pe = p.config_value("endpoint_url"); !pe.empty()) {
    ep = pe;
    r.endpoint_source = fmt::format("profile {}", p.name);
  }
  if (!ep.empty()) {
    r.custom_endpoint = true;
    OMNIO_TRY(split_endpoint(ep, &r));
  } else {
    OMNIO_TRY(split_endpoint(fmt::format("https://s3.{}.amazonaws.com", r.region), &r));
    r.endpoint_source = "default (AWS)";
  }

  r.ca_bundle = !c.http.ca_bundle.empty()
                    ? c.http.ca_bundle
                    : env::get("AWS_CA_BUNDLE").value_or(p.config_value("ca_bundle"));
  return r;
}

}  // namespace omnio::s3
