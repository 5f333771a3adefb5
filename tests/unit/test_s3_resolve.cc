// Where an s3:// store's endpoint, region and credentials come from: the AWS shared-file INI
// parser and resolve()'s precedence (explicit S3Config > environment > shared files > default),
// with every AWS_* variable and HOME saved, controlled per test and restored.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "backends/s3/s3_resolve.h"

namespace omnio::s3 {
namespace {

namespace fs = std::filesystem;

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// ---- parse_ini ----

TEST(S3ConfigValidate, ListPageSizeOutsideOneToAThousandIsRejected) {
  for (std::size_t bad : {std::size_t{0}, kS3ListPageSize + 1}) {
    S3Config c;
    c.list_page_size = bad;
    Status st = c.validate();
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(st.error().to_string().find("list_page_size"), std::string::npos)
        << st.error().to_string();
  }
  for (std::size_t good : {std::size_t{1}, kS3ListPageSize}) {
    S3Config c;
    c.list_page_size = good;
    EXPECT_TRUE(c.validate().ok()) << good;
  }
}

TEST(S3ParseIni, SectionsKeysAndComments) {
  IniFile ini = parse_ini(
      "# leading comment\n"
      "; another comment\n"
      "[default]\n"
      "aws_access_key_id = AKIDDEFAULT\n"
      "aws_secret_access_key=secretdefault\n"
      "\n"
      "[profile dev]\n"
      "  \n"
      "region = eu-central-1\n"
      "# region = commented-out\n"
      "[  spaced  ]\n"
      "k = v\n");
  ASSERT_EQ(ini.size(), 3u);
  EXPECT_EQ(ini["default"]["aws_access_key_id"], "AKIDDEFAULT");
  EXPECT_EQ(ini["default"]["aws_secret_access_key"], "secretdefault");
  EXPECT_EQ(ini["profile dev"].size(), 1u);
  EXPECT_EQ(ini["profile dev"]["region"], "eu-central-1");
  EXPECT_EQ(ini["spaced"]["k"], "v");
}

TEST(S3ParseIni, EqualsSignInValueIsKept) {
  IniFile ini = parse_ini(
      "[default]\n"
      "aws_secret_access_key = abc/def+ghi==\n"
      "aws_session_token=IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH=a=b\n");
  EXPECT_EQ(ini["default"]["aws_secret_access_key"], "abc/def+ghi==");
  EXPECT_EQ(ini["default"]["aws_session_token"],
            "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH=a=b");
}

TEST(S3ParseIni, NestedIndentedBlocksAreIgnored) {
  IniFile ini = parse_ini(
      "[profile minio]\n"
      "region = us-west-2\n"
      "s3 =\n"
      "    endpoint_url = http://nested:9000\n"
      "    addressing_style = path\n"
      "\tmax_concurrent_requests = 20\n"
      "endpoint_url = http://top:9000\n");
  const auto& s = ini["profile minio"];
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.at("region"), "us-west-2");
  EXPECT_EQ(s.at("endpoint_url"), "http://top:9000");
  EXPECT_EQ(s.count("s3"), 0u);
  EXPECT_EQ(s.count("addressing_style"), 0u);
  EXPECT_EQ(s.count("max_concurrent_requests"), 0u);
}

TEST(S3ParseIni, CrlfLineEndings) {
  IniFile ini = parse_ini(
      "[default]\r\n"
      "aws_access_key_id = AKIDCRLF\r\n"
      "aws_secret_access_key = SECRETCRLF\r\n"
      "\r\n"
      "[profile x]\r\n"
      "region=ap-south-1\r\n");
  ASSERT_EQ(ini.count("default"), 1u);
  EXPECT_EQ(ini["default"]["aws_access_key_id"], "AKIDCRLF");
  EXPECT_EQ(ini["default"]["aws_secret_access_key"], "SECRETCRLF");
  EXPECT_EQ(ini["profile x"]["region"], "ap-south-1");
}

TEST(S3ParseIni, SectionHeaderWithTrailingComment) {
  // The AWS CLI (Python configparser) reads "[prod] # comment" as section prod; its keys must not
  // land in the section before it.
  IniFile ini = parse_ini(
      "[default]\n"
      "aws_access_key_id = AKIDDEFAULT\n"
      "[prod] # production account\n"
      "aws_access_key_id = AKIDPROD\n"
      "[profile dev] ; dev\n"
      "region = eu-west-1\n");
  EXPECT_EQ(ini["default"]["aws_access_key_id"], "AKIDDEFAULT");
  EXPECT_EQ(ini["prod"]["aws_access_key_id"], "AKIDPROD");
  EXPECT_EQ(ini["profile dev"]["region"], "eu-west-1");
  EXPECT_EQ(ini["default"].count("region"), 0u);
}

TEST(S3ParseIni, NoTrailingNewlineAndJunk) {
  IniFile ini = parse_ini("orphan = before any section\n[a]\nno equals sign here\nlast=1");
  EXPECT_EQ(ini.size(), 1u);
  EXPECT_EQ(ini["a"].size(), 1u);
  EXPECT_EQ(ini["a"]["last"], "1");
  EXPECT_TRUE(parse_ini("").empty());
}

// ---- resolve ----

const char* const kVars[] = {"AWS_ACCESS_KEY_ID",
                             "AWS_SECRET_ACCESS_KEY",
                             "AWS_SESSION_TOKEN",
                             "AWS_PROFILE",
                             "AWS_SHARED_CREDENTIALS_FILE",
                             "AWS_CONFIG_FILE",
                             "AWS_REGION",
                             "AWS_DEFAULT_REGION",
                             "AWS_ENDPOINT_URL_S3",
                             "AWS_ENDPOINT_URL",
                             "AWS_CA_BUNDLE",
                             "HOME"};

class S3Resolve : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kVars) {
      const char* cur = std::getenv(v);
      saved_[v] = cur ? std::optional<std::string>(cur) : std::nullopt;
      ::unsetenv(v);
    }
    std::string tmpl = (fs::temp_directory_path() / "omnio-s3-resolve-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    home_ = tmpl;
    fs::create_directories(home_ / ".aws");
    ::setenv("HOME", home_.c_str(), 1);
  }
  void TearDown() override {
    for (const auto& [k, v] : saved_) {
      if (v) {
        ::setenv(k.c_str(), v->c_str(), 1);
      } else {
        ::unsetenv(k.c_str());
      }
    }
    std::error_code ec;
    if (!home_.empty()) fs::remove_all(home_, ec);
  }

  static void write(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
  }
  void credentials_file(const std::string& text) { write(home_ / ".aws" / "credentials", text); }
  void config_file(const std::string& text) { write(home_ / ".aws" / "config", text); }

  Resolved ok(const S3Config& c = {}) {
    auto r = resolve(c);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return r.ok() ? *r : Resolved{};
  }
  Error fails(const S3Config& c = {}) {
    auto r = resolve(c);
    EXPECT_FALSE(r.ok());
    return r.ok() ? Error() : r.error();
  }

  fs::path home_;
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST_F(S3Resolve, NothingConfiguredGivesAwsDefaultsAndNoCredentials) {
  Resolved r = ok();
  EXPECT_EQ(r.credentials_source, "none");
  EXPECT_EQ(r.credentials.access_key_id, "");
  EXPECT_EQ(r.credentials.secret_access_key, "");
  EXPECT_TRUE(contains(r.missing_credentials_hint, "AWS_ACCESS_KEY_ID"))
      << r.missing_credentials_hint;
  EXPECT_EQ(r.region, "us-east-1");
  EXPECT_EQ(r.endpoint, "https://s3.us-east-1.amazonaws.com");
  EXPECT_EQ(r.endpoint_scheme, "https");
  EXPECT_EQ(r.endpoint_host, "s3.us-east-1.amazonaws.com");
  EXPECT_FALSE(r.custom_endpoint);
  EXPECT_EQ(r.ca_bundle, "");
}

TEST_F(S3Resolve, ExplicitConfigBeatsEnvironmentBeatsFiles) {
  credentials_file("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = SECRETFILE\n");
  Resolved files = ok();
  EXPECT_EQ(files.credentials.access_key_id, "AKIDFILE");
  EXPECT_EQ(files.credentials.secret_access_key, "SECRETFILE");
  EXPECT_TRUE(contains(files.credentials_source, (home_ / ".aws" / "credentials").string()))
      << files.credentials_source;
  EXPECT_TRUE(files.missing_credentials_hint.empty());

  ::setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "SECRETENV", 1);
  Resolved env = ok();
  EXPECT_EQ(env.credentials.access_key_id, "AKIDENV");
  EXPECT_EQ(env.credentials.secret_access_key, "SECRETENV");
  EXPECT_EQ(env.credentials_source, "env");

  S3Config c;
  c.access_key_id = "AKIDCONFIG";
  c.secret_access_key = "SECRETCONFIG";
  Resolved cfg = ok(c);
  EXPECT_EQ(cfg.credentials.access_key_id, "AKIDCONFIG");
  EXPECT_EQ(cfg.credentials.secret_access_key, "SECRETCONFIG");
  EXPECT_EQ(cfg.credentials_source, "config");
}

TEST_F(S3Resolve, ExplicitConfigNeedsBothKeys) {
  S3Config c;
  c.access_key_id = "AKIDCONFIG";
  Error e = fails(c);
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(contains(e.message(), "secret_access_key")) << e.to_string();
}

TEST_F(S3Resolve, OnlyAccessKeyInEnvironmentNamesTheMissingSecret) {
  credentials_file("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = SECRETFILE\n");
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  Error e = fails();
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(contains(e.message(), "AWS_SECRET_ACCESS_KEY is not")) << e.to_string();
}

TEST_F(S3Resolve, OnlySecretInEnvironmentNamesTheMissingKeyId) {
  ::setenv("AWS_SECRET_ACCESS_KEY", "SECRETENV", 1);
  Error e = fails();
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(contains(e.message(), "AWS_ACCESS_KEY_ID is not")) << e.to_string();
  EXPECT_FALSE(contains(e.to_string(), "SECRETENV")) << e.to_string();
}

TEST_F(S3Resolve, SessionTokenIsCarried) {
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "SECRETENV", 1);
  ::setenv("AWS_SESSION_TOKEN", "TOKENENV", 1);
  EXPECT_EQ(ok().credentials.session_token, "TOKENENV");

  S3Config c;
  c.access_key_id = "AKIDCONFIG";
  c.secret_access_key = "SECRETCONFIG";
  c.session_token = "TOKENCONFIG";
  EXPECT_EQ(ok(c).credentials.session_token, "TOKENCONFIG");
  // Explicit keys without a token do not pick up the environment's token.
  c.session_token.clear();
  EXPECT_EQ(ok(c).credentials.session_token, "");

  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("AWS_SESSION_TOKEN");
  credentials_file(
      "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = SECRETFILE\n"
      "aws_session_token = TOKEN/FILE==\n");
  Resolved f = ok();
  EXPECT_EQ(f.credentials.access_key_id, "AKIDFILE");
  EXPECT_EQ(f.credentials.session_token, "TOKEN/FILE==");
}

TEST_F(S3Resolve, ProfileFromAwsProfileAndFromConfig) {
  credentials_file(
      "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = SECRETDEFAULT\n"
      "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = SECRETDEV\n"
      "[prod]\naws_access_key_id = AKIDPROD\naws_secret_access_key = SECRETPROD\n");
  EXPECT_EQ(ok().credentials.access_key_id, "AKIDDEFAULT");

  ::setenv("AWS_PROFILE", "dev", 1);
  Resolved dev = ok();
  EXPECT_EQ(dev.credentials.access_key_id, "AKIDDEV");
  EXPECT_EQ(dev.credentials.secret_access_key, "SECRETDEV");
  EXPECT_TRUE(contains(dev.credentials_source, "dev")) << dev.credentials_source;

  S3Config c;
  c.profile = "prod";  // beats AWS_PROFILE
  Resolved prod = ok(c);
  EXPECT_EQ(prod.credentials.access_key_id, "AKIDPROD");
  EXPECT_TRUE(contains(prod.credentials_source, "prod")) << prod.credentials_source;
}

TEST_F(S3Resolve, ConfigFileUsesProfilePrefixCredentialsFileDoesNot) {
  // In the config file a named profile is "[profile x]"; a bare "[x]" there is not that profile.
  config_file(
      "[default]\nregion = eu-west-1\n"
      "[profile dev]\nregion = eu-north-1\n"
      "[staging]\nregion = sa-east-1\n"
      "[profile keys]\naws_access_key_id = AKIDCONF\naws_secret_access_key = SECRETCONF\n");
  credentials_file("[profile dev]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n");

  EXPECT_EQ(ok().region, "eu-west-1");

  S3Config c;
  c.profile = "dev";
  Resolved dev = ok(c);
  EXPECT_EQ(dev.region, "eu-north-1");
  // "[profile dev]" in the credentials file is not profile dev.
  EXPECT_EQ(dev.credentials_source, "none");
  EXPECT_EQ(dev.credentials.access_key_id, "");

  c.profile = "staging";  // only "[staging]" in the config file: no such profile
  Error e = fails(c);
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(contains(e.message(), "staging")) << e.to_string();

  // Credentials may live in the config file's profile section.
  c.profile = "keys";
  Resolved keys = ok(c);
  EXPECT_EQ(keys.credentials.access_key_id, "AKIDCONF");
  EXPECT_EQ(keys.credentials.secret_access_key, "SECRETCONF");
  EXPECT_TRUE(contains(keys.credentials_source, (home_ / ".aws" / "config").string()))
      << keys.credentials_source;
}

TEST_F(S3Resolve, CredentialsFileBeatsConfigFileForTheSameProfile) {
  credentials_file("[default]\naws_access_key_id = AKIDCRED\naws_secret_access_key = SECRETCRED\n");
  config_file("[default]\naws_access_key_id = AKIDCONF\naws_secret_access_key = SECRETCONF\n");
  EXPECT_EQ(ok().credentials.access_key_id, "AKIDCRED");
}

TEST_F(S3Resolve, FilesFromEnvironmentPaths) {
  const fs::path creds = home_ / "elsewhere-credentials";
  const fs::path conf = home_ / "elsewhere-config";
  write(creds, "[default]\naws_access_key_id = AKIDELSE\naws_secret_access_key = SECRETELSE\n");
  write(conf, "[default]\nregion = ca-central-1\n");
  credentials_file("[default]\naws_access_key_id = AKIDHOME\naws_secret_access_key = SECRETHOME\n");
  config_file("[default]\nregion = us-west-1\n");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", creds.c_str(), 1);
  ::setenv("AWS_CONFIG_FILE", conf.c_str(), 1);
  Resolved r = ok();
  EXPECT_EQ(r.credentials.access_key_id, "AKIDELSE");
  EXPECT_EQ(r.region, "ca-central-1");
  EXPECT_TRUE(contains(r.credentials_source, creds.string())) << r.credentials_source;
}

TEST_F(S3Resolve, ExplicitlyChosenProfileThatExistsNowhereIsAnError) {
  credentials_file(
      "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = SECRETDEFAULT\n");
  config_file("[default]\nregion = eu-west-1\n");
  ::setenv("AWS_PROFILE", "ghost", 1);
  Error e = fails();
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(contains(e.message(), "ghost")) << e.to_string();

  ::unsetenv("AWS_PROFILE");
  S3Config c;
  c.profile = "phantom";
  Error e2 = fails(c);
  EXPECT_EQ(e2.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(contains(e2.message(), "phantom")) << e2.to_string();
  EXPECT_FALSE(contains(e2.to_string(), "SECRETDEFAULT"));
}

TEST_F(S3Resolve, RegionOrder) {
  config_file("[default]\nregion = eu-west-3\n");
  Resolved profile = ok();
  EXPECT_EQ(profile.region, "eu-west-3");
  EXPECT_EQ(profile.endpoint, "https://s3.eu-west-3.amazonaws.com");

  ::setenv("AWS_DEFAULT_REGION", "ap-northeast-1", 1);
  EXPECT_EQ(ok().region, "ap-northeast-1");

  ::setenv("AWS_REGION", "us-west-2", 1);
  EXPECT_EQ(ok().region, "us-west-2");

  S3Config c;
  c.region = "me-south-1";
  Resolved cfg = ok(c);
  EXPECT_EQ(cfg.region, "me-south-1");
  EXPECT_EQ(cfg.endpoint, "https://s3.me-south-1.amazonaws.com");
  EXPECT_FALSE(cfg.custom_endpoint);
}

TEST_F(S3Resolve, RegionFromCredentialsFileIsNotUsed) {
  // region is a config-file setting; the credentials file only holds keys.
  credentials_file(
      "[default]\naws_access_key_id = A\naws_secret_access_key = B\nregion = eu-west-2\n");
  EXPECT_EQ(ok().region, "us-east-1");
}

TEST_F(S3Resolve, EndpointOrder) {
  config_file("[default]\nendpoint_url = http://profile-host:7000\n");
  Resolved profile = ok();
  EXPECT_EQ(profile.endpoint, "http://profile-host:7000");
  EXPECT_EQ(profile.endpoint_scheme, "http");
  EXPECT_EQ(profile.endpoint_host, "profile-host:7000");
  EXPECT_TRUE(profile.custom_endpoint);

  ::setenv("AWS_ENDPOINT_URL", "http://global-host:7001", 1);
  EXPECT_EQ(ok().endpoint, "http://global-host:7001");

  ::setenv("AWS_ENDPOINT_URL_S3", "https://s3-host:7002", 1);
  Resolved s3env = ok();
  EXPECT_EQ(s3env.endpoint, "https://s3-host:7002");
  EXPECT_EQ(s3env.endpoint_scheme, "https");
  EXPECT_EQ(s3env.endpoint_host, "s3-host:7002");
  EXPECT_TRUE(s3env.custom_endpoint);

  S3Config c;
  c.endpoint = "http://127.0.0.1:9000";
  Resolved cfg = ok(c);
  EXPECT_EQ(cfg.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(cfg.endpoint_host, "127.0.0.1:9000");
  EXPECT_TRUE(cfg.custom_endpoint);
  // A custom endpoint does not change the region.
  EXPECT_EQ(cfg.region, "us-east-1");
}

TEST_F(S3Resolve, DefaultEndpointIsAwsForTheRegion) {
  S3Config c;
  c.region = "eu-central-1";
  Resolved r = ok(c);
  EXPECT_EQ(r.endpoint, "https://s3.eu-central-1.amazonaws.com");
  EXPECT_EQ(r.endpoint_host, "s3.eu-central-1.amazonaws.com");
  EXPECT_FALSE(r.custom_endpoint);
}

TEST_F(S3Resolve, EndpointWithoutPortOrWithTrailingSlash) {
  S3Config c;
  c.endpoint = "https://minio.example.com/";
  Resolved r = ok(c);
  EXPECT_EQ(r.endpoint, "https://minio.example.com");
  EXPECT_EQ(r.endpoint_host, "minio.example.com");
  EXPECT_EQ(r.endpoint_scheme, "https");

  ::setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:7480//", 1);
  Resolved e = ok();
  EXPECT_EQ(e.endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(e.endpoint_host, "127.0.0.1:7480");
}

TEST_F(S3Resolve, BadEndpointsAreRejectedWithTheExpectedForm) {
  for (const char* bad : {"127.0.0.1:9000", "ftp://x", "http://host/path", "http://", "minio"}) {
    S3Config c;
    c.endpoint = bad;
    auto r = resolve(c);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_TRUE(contains(r.error().message(), "http(s)://host[:port]")) << r.error().to_string();
    EXPECT_TRUE(contains(r.error().message(), bad)) << r.error().to_string();
  }
  // The same checks apply to endpoints from the environment.
  ::setenv("AWS_ENDPOINT_URL", "localhost:9000", 1);
  Error e = fails();
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(contains(e.message(), "localhost:9000")) << e.to_string();
}

TEST_F(S3Resolve, CaBundleOrder) {
  config_file("[default]\nca_bundle = /profile/ca.pem\n");
  EXPECT_EQ(ok().ca_bundle, "/profile/ca.pem");
  ::setenv("AWS_CA_BUNDLE", "/env/ca.pem", 1);
  EXPECT_EQ(ok().ca_bundle, "/env/ca.pem");
  S3Config c;
  c.http.ca_bundle = "/config/ca.pem";
  EXPECT_EQ(ok(c).ca_bundle, "/config/ca.pem");
}

TEST_F(S3Resolve, NoCredentialsHintNamesTheProfileAndFile) {
  config_file("[profile dev]\nregion = eu-west-1\n");
  S3Config c;
  c.profile = "dev";
  Resolved r = ok(c);
  EXPECT_EQ(r.credentials_source, "none");
  EXPECT_TRUE(contains(r.missing_credentials_hint, "AWS_ACCESS_KEY_ID"))
      << r.missing_credentials_hint;
  EXPECT_TRUE(contains(r.missing_credentials_hint, "dev")) << r.missing_credentials_hint;
  EXPECT_TRUE(contains(r.missing_credentials_hint, (home_ / ".aws" / "credentials").string()))
      << r.missing_credentials_hint;
}

TEST_F(S3Resolve, WithoutHomeTheHintNamesTheDefaultFile) {
  ::unsetenv("HOME");
  Resolved r = ok();
  EXPECT_EQ(r.credentials_source, "none");
  EXPECT_TRUE(contains(r.missing_credentials_hint, "~/.aws/credentials"))
      << r.missing_credentials_hint;
  EXPECT_EQ(r.region, "us-east-1");
}

TEST_F(S3Resolve, IncompleteProfileKeysAreNoCredentials) {
  credentials_file("[default]\naws_access_key_id = AKIDONLY\n");
  Resolved r = ok();
  EXPECT_EQ(r.credentials_source, "none");
  EXPECT_EQ(r.credentials.access_key_id, "");
}

TEST_F(S3Resolve, SecretNeverAppearsInSourcesOrHints) {
  const std::string secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  auto check = [&](const Resolved& r) {
    EXPECT_FALSE(contains(r.credentials_source, secret)) << r.credentials_source;
    EXPECT_FALSE(contains(r.missing_credentials_hint, secret)) << r.missing_credentials_hint;
    EXPECT_FALSE(contains(r.endpoint_source, secret));
    EXPECT_FALSE(contains(r.region_source, secret));
  };
  credentials_file("[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = " + secret +
                   "\n");
  Resolved f = ok();
  EXPECT_EQ(f.credentials.secret_access_key, secret);
  check(f);

  ::setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", secret.c_str(), 1);
  Resolved e = ok();
  EXPECT_EQ(e.credentials.secret_access_key, secret);
  check(e);

  S3Config c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = secret;
  check(ok(c));

  // A half-configured environment: the error names variables, never the secret's value.
  ::unsetenv("AWS_ACCESS_KEY_ID");
  Error err = fails();
  EXPECT_FALSE(contains(err.to_string(), secret)) << err.to_string();
}

}  // namespace
}  // namespace omnio::s3
