// Unit tests of the S3 credential chain (s3/credentials.h): the order of the
// sources and their precedence, the shared files' syntax and hostile files,
// profiles, regions and endpoints. The HTTP sources: credential_metadata_test.cc.
#include <criterion/criterion.h>

#include "fake_aws.h"

using namespace iafs;
using namespace iafs::s3;
using iafs::test::assert_no_secret;
using iafs::test::FakeMetadata;
using iafs::test::load;
using iafs::test::script_imds;

Test(credential_chain, environment_wins_over_every_other_source) {
  std::string home = test::fake_home();
  test::write_file(home + "/.aws/credentials",
                   "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = SeCrEt-f\n");
  FakeMetadata metadata;
  script_imds(metadata, "IMDSKEY", "2026-12-01T12:00:00Z");
  auto c = load({{"AWS_ACCESS_KEY_ID", "ENVKEY"},
                 {"AWS_SECRET_ACCESS_KEY", "SeCrEt-e"},
                 {"AWS_SESSION_TOKEN", "ToKeN-e"}},
                home, metadata);
  cr_assert(c.ok());
  cr_assert_eq(c->access_key_id, "ENVKEY");
  cr_assert_eq(c->secret_access_key, "SeCrEt-e");
  cr_assert_eq(c->session_token, "ToKeN-e");
  cr_assert_eq(c->expires_ns, 0);
  cr_assert_eq(c->source, "environment");
  cr_assert(metadata.requests().empty());
}

Test(credential_chain, half_set_environment_is_an_error) {
  FakeMetadata metadata;
  auto c = load({{"AWS_SECRET_ACCESS_KEY", "SeCrEt-e"}}, test::fake_home(), metadata);
  cr_assert_not(c.ok());
  cr_assert(c.error().code == ErrorCode::kInvalid);
  cr_assert(c.error().message.find("AWS_ACCESS_KEY_ID") != std::string::npos);
  assert_no_secret(c.error().message);
  cr_assert(metadata.requests().empty());
}

Test(credential_chain, credentials_file_wins_over_config_file) {
  std::string home = test::fake_home();
  test::write_file(home + "/.aws/credentials",
                   "[default]\naws_access_key_id = CREDKEY\naws_secret_access_key = SeCrEt-c\n");
  test::write_file(home + "/.aws/config",
                   "[default]\naws_access_key_id = CONFKEY\naws_secret_access_key = SeCrEt-k\n");
  FakeMetadata metadata;
  auto c = load({}, home, metadata);
  cr_assert(c.ok());
  cr_assert_eq(c->access_key_id, "CREDKEY");
  cr_assert_eq(c->source, home + "/.aws/credentials [default]");
  std::remove((home + "/.aws/credentials").c_str());
  c = load({}, home, metadata);
  cr_assert_eq(c->access_key_id, "CONFKEY");
  cr_assert_eq(c->source, home + "/.aws/config [default]");
}

Test(credential_chain, profile_sections_differ_between_the_two_files) {
  std::string home = test::fake_home();
  // [profile NAME] belongs in config, [NAME] in credentials: the other forms are not the profile.
  test::write_file(home + "/.aws/credentials",
                   "[profile prod]\naws_access_key_id = WRONG1\naws_secret_access_key = x\n"
                   "[stage]\naws_access_key_id = STAGEKEY\naws_secret_access_key = SeCrEt-s\n");
  test::write_file(home + "/.aws/config",
                   "[prod]\naws_access_key_id = WRONG2\naws_secret_access_key = x\n"
                   "[profile   prod]\naws_access_key_id = PRODKEY\naws_secret_access_key = y\n");
  FakeMetadata metadata;
  cr_assert_eq(load({}, home, metadata, "prod")->access_key_id, "PRODKEY");
  cr_assert_eq(load({}, home, metadata, "stage")->access_key_id, "STAGEKEY");
  auto missing = load({}, home, metadata, "other");
  cr_assert(missing.error().code == ErrorCode::kNotFound);
  cr_assert(missing.error().message.find("has no [other]") != std::string::npos);
}

Test(credential_chain, aws_profile_chooses_and_an_explicit_profile_wins) {
  std::string home = test::fake_home();
  test::write_file(home + "/.aws/credentials",
                   "[default]\naws_access_key_id=DEFKEY\naws_secret_access_key=a\n"
                   "[a]\naws_access_key_id=AKEY\naws_secret_access_key=b\n"
                   "[b]\naws_access_key_id=BKEY\naws_secret_access_key=c\n");
  FakeMetadata metadata;
  cr_assert_eq(load({}, home, metadata)->access_key_id, "DEFKEY");
  cr_assert_eq(load({{"AWS_PROFILE", "a"}}, home, metadata)->access_key_id, "AKEY");
  cr_assert_eq(load({{"AWS_PROFILE", "a"}}, home, metadata, "b")->access_key_id, "BKEY");
}

Test(credential_chain, shared_file_syntax) {
  std::string home = test::fake_home();
  test::write_file(home + "/.aws/credentials",
                   "# a comment\r\n; another\r\n\r\n[other]\r\naws_access_key_id = NO\r\n"
                   "  [ default ]   # the default\r\n"
                   "AWS_Access_Key_Id\t=\tSPACEDKEY   \r\n"
                   "aws_secret_access_key=SeCrEt/with+slash=   # trailing comment\r\n"
                   "s3 =\r\n    max_concurrent_requests = 20\r\n"
                   "aws_session_token =  ToKeN#kept;too  \r\n");
  FakeMetadata metadata;
  auto c = load({}, home, metadata);
  cr_assert(c.ok(), "%s", c.ok() ? "" : c.error().message.c_str());
  cr_assert_eq(c->access_key_id, "SPACEDKEY");
  cr_assert_eq(c->secret_access_key, "SeCrEt/with+slash=");
  cr_assert_eq(c->session_token, "ToKeN#kept;too");
}

Test(credential_chain, uniformly_indented_settings_are_settings) {
  std::string home = test::fake_home();
  test::write_file(home + "/.aws/credentials",
                   "[default]\n  aws_access_key_id = INDENTED\n  s3 =\n"
                   "      addressing_style = path\n  aws_secret_access_key = SeCrEt-i\n"
                   "  aws_session_token = ToKeN-i\n");
  FakeMetadata metadata;
  auto c = load({}, home, metadata);
  cr_assert(c.ok(), "%s", c.ok() ? "" : c.error().message.c_str());
  cr_assert_eq(c->access_key_id, "INDENTED");
  cr_assert_eq(c->secret_access_key, "SeCrEt-i");
  cr_assert_eq(c->session_token, "ToKeN-i");
}

Test(credential_chain, a_missing_key_names_the_file_and_the_key) {
  std::string home = test::fake_home();
  test::write_file(home + "/.aws/credentials", "[default]\naws_secret_access_key = SeCrEt-only\n");
  FakeMetadata metadata;
  script_imds(metadata, "IMDSKEY", "2026-12-01T12:00:00Z");
  auto c = load({}, home, metadata);
  cr_assert(c.error().code == ErrorCode::kInvalid);
  cr_assert_eq(c.error().message, home +
                                      "/.aws/credentials [default]: aws_secret_access_key "
                                      "without aws_access_key_id");
  cr_assert(metadata.requests().empty(), "a broken profile must not lend IMDS's identity");
}

Test(credential_chain, environment_names_the_files) {
  std::string home = test::fake_home();
  std::string dir = test::temp_dir("awsfiles");
  test::write_file(dir + "/creds",
                   "[p]\naws_access_key_id = FROMENVFILE\naws_secret_access_key = s\n");
  test::write_file(dir + "/conf",
                   "[profile q]\naws_access_key_id = FROMCONF\naws_secret_access_key = s\n"
                   "[profile r]\nregion = eu-central-1\n");
  test::write_file(home + "/.aws/credentials",
                   "[p]\naws_access_key_id = HOMEKEY\naws_secret_access_key = s\n");
  std::map<std::string, std::string> vars = {{"AWS_SHARED_CREDENTIALS_FILE", dir + "/creds"},
                                             {"AWS_CONFIG_FILE", dir + "/conf"}};
  FakeMetadata metadata;
  cr_assert_eq(load(vars, home, metadata, "p")->access_key_id, "FROMENVFILE");
  cr_assert_eq(load(vars, home, metadata, "q")->access_key_id, "FROMCONF");
  Environment env = test::fake_environment(vars, home);
  cr_assert_eq(resolve_region(env, "r"), "eu-central-1");
  cr_assert_eq(resolve_region(env, "q"), "us-east-1");
  vars["AWS_DEFAULT_REGION"] = "ap-south-1";
  cr_assert_eq(resolve_region(test::fake_environment(vars, home), "r"), "ap-south-1");
  vars["AWS_REGION"] = "auto";
  cr_assert_eq(resolve_region(test::fake_environment(vars, home), "r"), "auto");
}

Test(credential_chain, hostile_files_are_clear_errors) {
  std::string home = test::fake_home();
  std::string path = home + "/.aws/credentials";
  FakeMetadata metadata;
  struct Case {
    std::string content;
    const char* expected;
  };
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary += static_cast<char>((i * 7919) % 256);
  const Case cases[] = {
      {std::string(2 << 20, 'a'), "is larger than 1048576 bytes"},
      {binary, "is not a text file"},
      {"[default]\naws_access_key_id SeCrEt-no-equals\n",
       "line 2: expected [section] or name = value"},
      {"aws_access_key_id = SeCrEt-before\n", "line 1: a setting before any [section]"},
      {"[default\naws_access_key_id = x\n", "line 1: expected [section]"},
      {"[default] SeCrEt\n", "line 1: expected [section]"},
      {"[]\n", "line 1: empty section name"},
      {"[default]\n = SeCrEt\n", "line 2: expected a name before '='"},
  };
  for (const Case& c : cases) {
    test::write_file(path, c.content);
    auto loaded = load({}, home, metadata);
    cr_assert_not(loaded.ok());
    cr_assert(loaded.error().code == ErrorCode::kInvalid);
    cr_assert(loaded.error().message.find(path) != std::string::npos);
    cr_assert(loaded.error().message.find(c.expected) != std::string::npos, "%s",
              loaded.error().message.c_str());
    assert_no_secret(loaded.error().message);
  }
  std::remove(path.c_str());
  mkdir(path.c_str(), 0700);
  cr_assert(load({}, home, metadata).error().message.find("is not a regular file") !=
            std::string::npos);
  rmdir(path.c_str());
  mkfifo(path.c_str(), 0600);  // must not hang
  cr_assert(load({}, home, metadata).error().message.find("is not a regular file") !=
            std::string::npos);
  cr_assert(metadata.requests().empty());
}

Test(credential_chain, credentials_file_readable_by_others_logs_a_warning) {
  std::string home = test::fake_home();
  std::string path = home + "/.aws/credentials";
  test::write_file(path, "[default]\naws_access_key_id = K\naws_secret_access_key = SeCrEt-w\n",
                   0644);
  FakeMetadata metadata;
  std::string log = test::captured_stderr([&] { cr_assert(load({}, home, metadata).ok()); });
  cr_assert(
      log.find("warning: S3 credentials file " + path +
               " is readable by other users (mode 0644): chmod 600 " + path) != std::string::npos,
      "%s", log.c_str());
  assert_no_secret(log);
  chmod(path.c_str(), 0640);
  log = test::captured_stderr([&] { cr_assert(load({}, home, metadata).ok()); });
  cr_assert(log.find("(mode 0640)") != std::string::npos, "%s", log.c_str());
  chmod(path.c_str(), 0600);
  log = test::captured_stderr([&] { cr_assert(load({}, home, metadata).ok()); });
  cr_assert(log.find("readable") == std::string::npos, "%s", log.c_str());
}

Test(credential_chain, profiles_that_need_what_we_lack_are_refused) {
  std::string home = test::fake_home();
  test::write_file(home + "/.aws/config",
                   "[profile role]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n"
                   "[profile proc]\ncredential_process = /bin/echo SeCrEt\n");
  FakeMetadata metadata;
  for (const char* profile : {"role", "proc"}) {
    auto c = load({}, home, metadata, profile);
    cr_assert(c.error().code == ErrorCode::kNotSupported);
    assert_no_secret(c.error().message);
  }
}

Test(credential_chain, endpoint_from_the_environment) {
  cr_assert_not(resolve_endpoint(test::fake_environment({}, "")).has_value());
  cr_assert_eq(*resolve_endpoint(test::fake_environment({{"AWS_ENDPOINT_URL", "http://b"}}, "")),
               "http://b");
  cr_assert_eq(
      *resolve_endpoint(test::fake_environment(
          {{"AWS_ENDPOINT_URL", "http://b"}, {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:7480"}},
          "")),
      "http://127.0.0.1:7480");
  cr_assert_not(resolve_endpoint(test::fake_environment({{"AWS_ENDPOINT_URL_S3", ""}}, "")));
}
