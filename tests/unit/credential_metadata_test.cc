// Unit tests of the credential chain's HTTP sources (s3/credentials.h): STS
// for a web identity, the container endpoint, IMDSv2: their requests, their
// replies, their failures, and errors that name every source tried and never
// a secret.
#include <criterion/criterion.h>

#include "fake_aws.h"

using namespace iafs;
using namespace iafs::s3;
using iafs::test::assert_no_secret;
using iafs::test::FakeMetadata;
using iafs::test::kImdsRoles;
using iafs::test::kImdsToken;
using iafs::test::load;
using iafs::test::script_imds;

Test(credential_metadata, web_identity_asks_sts_unsigned) {
  std::string home = test::fake_home();
  std::string token_file = home + "/token";
  test::write_file(token_file, "jwt-header.jwt-body.jwt-sig\n");
  FakeMetadata metadata;
  metadata.answer(
      "POST https://sts.eu-west-1.amazonaws.com/", 200,
      "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
      "  <AssumeRoleWithWebIdentityResult>\n"
      "    <SubjectFromWebIdentityToken>system:serviceaccount:web</SubjectFromWebIdentityToken>\n"
      "    <AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/web/s</Arn>"
      "<AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>\n"
      "    <Credentials>\n      <SessionToken>ToKeN+sts/=</SessionToken>\n"
      "      <SecretAccessKey>SeCrEt&amp;sts</SecretAccessKey>\n"
      "      <Expiration>2026-12-01T13:00:00Z</Expiration>\n"
      "      <AccessKeyId>ASIASTS</AccessKeyId>\n    </Credentials>\n"
      "  </AssumeRoleWithWebIdentityResult>\n</AssumeRoleWithWebIdentityResponse>\n");
  auto c = load({{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                 {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/web"},
                 {"AWS_ROLE_SESSION_NAME", "host a"},
                 {"AWS_REGION", "eu-west-1"}},
                home, metadata);
  cr_assert(c.ok(), "%s", c.ok() ? "" : c.error().message.c_str());
  cr_assert_eq(c->access_key_id, "ASIASTS");
  cr_assert_eq(c->secret_access_key, "SeCrEt&sts");
  cr_assert_eq(c->session_token, "ToKeN+sts/=");
  cr_assert_eq(c->expires_ns, int64_t{1796130000} * 1000000000);
  cr_assert_eq(c->source, "web identity arn:aws:iam::123456789012:role/web");
  auto requests = metadata.requests();
  cr_assert_eq(requests.size(), 1u);
  cr_assert_eq(requests[0].body,
               "Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole"
               "%2Fweb&RoleSessionName=host%20a&WebIdentityToken=jwt-header.jwt-body.jwt-sig"
               "&Version=2011-06-15");
  cr_assert_eq(test::header_of(requests[0], "content-type"), "application/x-www-form-urlencoded");
  cr_assert_eq(test::header_of(requests[0], "authorization"), "(absent)");
}

Test(credential_metadata, web_identity_failures_stop_the_chain_without_secrets) {
  std::string home = test::fake_home();
  std::string token_file = home + "/token";
  test::write_file(token_file, "jwt-secret-token");
  std::map<std::string, std::string> vars = {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                                             {"AWS_ROLE_ARN", "arn:aws:iam::1:role/web"},
                                             {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:7480/"}};
  FakeMetadata metadata;
  script_imds(metadata, "IMDSKEY", "2026-12-01T12:00:00Z");
  auto c = load(vars, home, metadata);  // STS does not answer
  cr_assert(c.error().code == ErrorCode::kIo);
  cr_assert_eq(
      c.error().message,
      "web identity: STS at http://127.0.0.1:7480 did not answer: timed out after 5000 ms");
  cr_assert_eq(metadata.requests().size(), 1u, "IMDS must not lend its role instead");
  metadata.answer("POST http://127.0.0.1:7480/", 400,
                  "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
                  "<Message>jwt-secret-token is bad</Message></Error></ErrorResponse>");
  c = load(vars, home, metadata);
  cr_assert_eq(c.error().message,
               "web identity: STS at http://127.0.0.1:7480 answered HTTP 400 InvalidIdentityToken");
  metadata.answer(
      "POST http://127.0.0.1:7480/", 200,
      "<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>SeCrEt</SecretAccessKey>"
      "<SessionToken>ToKeN</SessionToken></Credentials>");
  c = load(vars, home, metadata);
  cr_assert(c.error().code == ErrorCode::kInvalid);
  assert_no_secret(c.error().message);
  vars.erase("AWS_ROLE_ARN");
  cr_assert(load(vars, home, metadata).error().code == ErrorCode::kInvalid);
  vars["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/web";
  vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = home + "/absent";
  cr_assert(load(vars, home, metadata).error().message.find("does not exist") != std::string::npos);
}

Test(credential_metadata, container_relative_uri_with_a_token) {
  FakeMetadata metadata;
  metadata.answer("GET http://169.254.170.2/v2/credentials/5f2c-SeCrEt", 200,
                  "{\"RoleArn\":\"arn:aws:iam::1:role/task\",\"AccessKeyId\":\"ASIATASK\","
                  "\"SecretAccessKey\":\"SeCrEt\\/task\",\"Token\":\"ToKeN\\u002btask\","
                  "\"Expiration\":\"2026-12-01T12:30:00.000+01:00\"}");
  auto c = load({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/5f2c-SeCrEt"},
                 {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ToKeN-auth"}},
                test::fake_home(), metadata);
  cr_assert(c.ok(), "%s", c.ok() ? "" : c.error().message.c_str());
  cr_assert_eq(c->access_key_id, "ASIATASK");
  cr_assert_eq(c->secret_access_key, "SeCrEt/task");
  cr_assert_eq(c->session_token, "ToKeN+task");
  cr_assert_eq(c->expires_ns, (int64_t{1796126400} - 1800) * 1000000000);
  cr_assert_eq(c->source, "container endpoint http://169.254.170.2");
  auto requests = metadata.requests();
  cr_assert_eq(requests.size(), 1u);
  cr_assert_eq(test::header_of(requests[0], "authorization"), "ToKeN-auth");
}

Test(credential_metadata, container_full_uri_and_token_file) {
  std::string home = test::fake_home();
  test::write_file(home + "/token", "ToKeN-file\n");
  FakeMetadata metadata;
  metadata.answer("GET http://127.0.0.1:8080/creds", 200,
                  test::json_credentials("ASIAFULL", "SeCrEt", "ToKeN", "2026-12-01T12:00:00Z"));
  std::map<std::string, std::string> vars = {
      {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:8080/creds"},
      {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", home + "/token"},
      {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored"}};
  auto c = load(vars, home, metadata);
  cr_assert_eq(c->access_key_id, "ASIAFULL");
  cr_assert_eq(test::header_of(metadata.requests()[0], "authorization"), "ToKeN-file");
  for (const char* refused : {"http://example.com/creds", "http://user:pw@127.0.0.1/x",
                              "ftp://127.0.0.1/x", "http://127.0.0.1.example.com/x"}) {
    vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = refused;
    auto r = load(vars, home, metadata);
    cr_assert(r.error().code == ErrorCode::kInvalid, "%s", refused);
    cr_assert(r.error().message.find("pw") == std::string::npos);
  }
  vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "https://creds.example.com/x";
  cr_assert(load(vars, home, metadata).error().message ==
            "container endpoint https://creds.example.com did not answer: timed out after 2000 ms");
  vars.erase("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "a\r\nInjected: yes";
  cr_assert(load(vars, home, metadata).error().code == ErrorCode::kInvalid);
}

Test(credential_metadata, imdsv2_token_then_role_then_credentials) {
  FakeMetadata metadata;
  script_imds(metadata, "ASIAIMDS", "2026-12-01T12:00:00Z");
  auto c = load({}, test::fake_home(), metadata);
  cr_assert(c.ok(), "%s", c.ok() ? "" : c.error().message.c_str());
  cr_assert_eq(c->access_key_id, "ASIAIMDS");
  cr_assert_eq(c->session_token, "ToKeN-imds");
  cr_assert_eq(c->expires_ns, int64_t{1796126400} * 1000000000);
  cr_assert_eq(c->source, "IMDSv2 role web");
  auto requests = metadata.requests();
  cr_assert_eq(requests.size(), 3u);
  cr_assert_eq(requests[0].method + " " + requests[0].url, kImdsToken);
  cr_assert_eq(test::header_of(requests[0], "x-aws-ec2-metadata-token-ttl-seconds"), "21600");
  cr_assert_eq(requests[1].method + " " + requests[1].url, kImdsRoles);
  cr_assert_eq(requests[2].url, std::string(kImdsRoles).substr(4) + "web");
  for (std::size_t i = 0; i < 3; ++i) cr_assert_eq(requests[i].timeout_ms, 1000);
  for (std::size_t i = 1; i < 3; ++i) {
    cr_assert_eq(test::header_of(requests[i], "x-aws-ec2-metadata-token"), "imds-session-token");
  }
}

Test(credential_metadata, nothing_anywhere_names_every_source_after_one_quick_probe) {
  std::string home = test::fake_home();
  FakeMetadata metadata;
  auto c = load({}, home, metadata);
  cr_assert(c.error().code == ErrorCode::kNotFound);
  cr_assert_eq(c.error().message,
               "no S3 credentials (profile default) in environment: AWS_ACCESS_KEY_ID not set; "
               "shared files: " +
                   home + "/.aws/credentials absent, " + home +
                   "/.aws/config absent; web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set; "
                   "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set; "
                   "IMDSv2: http://169.254.169.254 did not answer (timed out after 1000 ms)");
  cr_assert_eq(metadata.requests().size(), 1u);
  // Disabled: no request at all. A role-less instance: kNotFound too.
  cr_assert(load({{"AWS_EC2_METADATA_DISABLED", "TRUE"}}, home, metadata)
                .error()
                .message.ends_with("IMDSv2: disabled by AWS_EC2_METADATA_DISABLED"));
  cr_assert_eq(metadata.requests().size(), 1u);
  metadata.answer(kImdsToken, 200, "t");
  metadata.answer(kImdsRoles, 404, "");
  cr_assert(load({}, home, metadata).error().message.ends_with("the instance has no IAM role"));
}

Test(credential_metadata, imds_failures_after_the_token_are_errors_without_secrets) {
  std::string home = test::fake_home();
  FakeMetadata metadata;
  metadata.answer(kImdsToken, 200, "ToKeN-session");
  auto c = load({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://[fd00:ec2::254]/"}}, home, metadata);
  cr_assert_eq(metadata.requests().size(), 1u);  // the endpoint moved: no token there
  metadata.answer(kImdsRoles, 200, "web\n");
  c = load({}, home, metadata);  // the role's credentials time out
  cr_assert(c.error().code == ErrorCode::kIo);
  cr_assert_eq(c.error().message,
               "IMDSv2 at http://169.254.169.254 did not answer: timed out after 1000 ms");
  for (const char* bad :
       {"{\"Code\":\"Failure\",\"AccessKeyId\":\"A\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"SeCrEt\",\"Token\":\"ToKeN\","
        "\"Expiration\":\"tomorrow\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"SeCrEt\\n\"}", "<html>SeCrEt</html>", ""}) {
    metadata.answer(std::string(kImdsRoles) + "web", 200, bad);
    c = load({}, home, metadata);
    cr_assert_not(c.ok(), "%s", bad);
    assert_no_secret(c.error().message);
  }
  metadata.answer(kImdsRoles, 200, "../../etc\n");
  cr_assert(load({}, home, metadata).error().message.ends_with("the role list is not a role name"));
}

Test(credential_metadata, each_source_wins_over_the_ones_after_it) {
  std::string home = test::fake_home();
  test::write_file(home + "/token", "jwt-token");
  test::write_file(home + "/.aws/credentials",
                   "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = SeCrEt\n");
  FakeMetadata metadata;
  metadata.answer("POST https://sts.us-east-1.amazonaws.com/", 200,
                  "<Credentials><AccessKeyId>ASIAWEB</AccessKeyId><SecretAccessKey>SeCrEt"
                  "</SecretAccessKey><SessionToken>ToKeN</SessionToken><Expiration>"
                  "2026-12-01T12:00:00Z</Expiration></Credentials>");
  metadata.answer("GET http://169.254.170.2/creds", 200,
                  test::json_credentials("ASIATASK", "SeCrEt", "ToKeN", "2026-12-01T12:00:00Z"));
  script_imds(metadata, "ASIAIMDS", "2026-12-01T12:00:00Z");
  std::map<std::string, std::string> vars = {{"AWS_ACCESS_KEY_ID", "ENVKEY"},
                                             {"AWS_SECRET_ACCESS_KEY", "SeCrEt"},
                                             {"AWS_WEB_IDENTITY_TOKEN_FILE", home + "/token"},
                                             {"AWS_ROLE_ARN", "arn:aws:iam::1:role/web"},
                                             {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds"}};
  cr_assert_eq(load(vars, home, metadata)->access_key_id, "ENVKEY");
  vars.erase("AWS_ACCESS_KEY_ID");
  vars.erase("AWS_SECRET_ACCESS_KEY");
  cr_assert_eq(load(vars, home, metadata)->access_key_id, "FILEKEY");
  cr_assert(metadata.requests().empty());
  std::remove((home + "/.aws/credentials").c_str());
  cr_assert_eq(load(vars, home, metadata)->access_key_id, "ASIAWEB");
  cr_assert_eq(metadata.requests().size(), 1u);
  vars.erase("AWS_WEB_IDENTITY_TOKEN_FILE");
  cr_assert_eq(load(vars, home, metadata)->access_key_id, "ASIATASK");
  cr_assert_eq(metadata.requests().size(), 2u);
  vars.erase("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  cr_assert_eq(load(vars, home, metadata)->access_key_id, "ASIAIMDS");
  cr_assert_eq(metadata.requests().size(), 5u);
}
