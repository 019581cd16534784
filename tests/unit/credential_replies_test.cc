// Unit tests of the readers of the credential sources' replies
// (s3/credential_sources.h): STS's XML, the JSON of the container endpoint and
// IMDS, ISO 8601 times. They read hostile bytes: every truncation and
// thousands of garbled replies must give an error, never a crash.
#include <criterion/criterion.h>

#include <cstdint>
#include <random>
#include <string>

#include "s3/credential_sources.h"

using namespace iafs;
using namespace iafs::s3;

namespace {

constexpr int64_t kSecond = 1000000000;

const std::string kStsReply =
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    "<AssumeRoleWithWebIdentityResult><Credentials>"
    "<AccessKeyId>ASIAEXAMPLE</AccessKeyId>"
    "<SecretAccessKey>wJalr&lt;x&gt;&quot;&apos;</SecretAccessKey>"
    "<SessionToken>\n  FwoGZXIvYXdzEBY+/=\n</SessionToken>"
    "<Expiration>2026-12-01T12:00:00.5Z</Expiration>"
    "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";

const std::string kJsonReply =
    "{\"Code\":\"Success\",\"LastUpdated\":\"2026-12-01T06:00:00Z\",\"Type\":\"AWS-HMAC\","
    "\"Nested\":{\"a\":[1,2.5e3,-0.1,{\"b\":null}],\"c\":{}},\"List\":[],\"Flag\":true,"
    "\"AccessKeyId\":\"ASIAJSON\",\"SecretAccessKey\":\"se\\\"cr\\\\et\",\"Token\":\"t\\u00e9\","
    "\"Expiration\":\"2026-12-01T12:00:00Z\"}";

// Deterministic garbling: flip, drop or insert bytes.
std::string garbled(const std::string& text, std::mt19937& random) {
  std::string out = text;
  int edits = 1 + static_cast<int>(random() % 4);
  for (int i = 0; i < edits && !out.empty(); ++i) {
    std::size_t at = random() % out.size();
    switch (random() % 3) {
      case 0:
        out[at] = static_cast<char>(random() % 256);
        break;
      case 1:
        out.erase(at, 1 + random() % 8);
        break;
      default:
        out.insert(at, 1, "{}[]\",:\\<>&/"[random() % 12]);
        break;
    }
  }
  return out;
}

}  // namespace

Test(credential_replies, sts_reply_fields_unescaped_and_trimmed) {
  auto c = parse_sts_reply(kStsReply);
  cr_assert(c.ok(), "%s", c.ok() ? "" : c.error().message.c_str());
  cr_assert_eq(c->access_key_id, "ASIAEXAMPLE");
  cr_assert_eq(c->secret_access_key, "wJalr<x>\"'");
  cr_assert_eq(c->session_token, "FwoGZXIvYXdzEBY+/=");
  cr_assert_eq(c->expires_ns, int64_t{1796126400} * kSecond + kSecond / 2);
}

Test(credential_replies, sts_reply_every_truncation_is_an_error) {
  for (std::size_t n = 0; n + 1 < kStsReply.size(); ++n) {
    auto c = parse_sts_reply(kStsReply.substr(0, n));
    // Cut inside the trailing tags after </Credentials>, the reply still holds everything.
    if (kStsReply.substr(0, n).find("</Credentials>") != std::string::npos) continue;
    cr_assert_not(c.ok(), "cut at %zu", n);
    cr_assert(c.error().code == ErrorCode::kInvalid);
    cr_assert(c.error().message.find("wJalr") == std::string::npos);
  }
}

Test(credential_replies, sts_reply_strictness) {
  auto without = [](const std::string& element) {
    std::string reply = kStsReply;
    std::size_t at = reply.find("<" + element + ">");
    std::size_t end = reply.find("</" + element + ">") + element.size() + 3;
    return reply.erase(at, end - at);
  };
  for (const char* element : {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}) {
    cr_assert_not(parse_sts_reply(without(element)).ok(), "%s", element);
  }
  std::string unknown_entity = kStsReply;
  unknown_entity.replace(unknown_entity.find("&lt;"), 4, "&#60;");
  cr_assert_not(parse_sts_reply(unknown_entity).ok());
  std::string nested = kStsReply;
  nested.replace(nested.find("ASIAEXAMPLE"), 11, "<b>ASIA</b>");
  cr_assert_not(parse_sts_reply(nested).ok());
  std::string spaced = kStsReply;
  spaced.replace(spaced.find("FwoG"), 4, "Fw oG");
  cr_assert_not(parse_sts_reply(spaced).ok());
  cr_assert_not(parse_sts_reply(std::string(2 << 20, ' ') + kStsReply).ok());
  cr_assert_eq(*sts_error_code("<ErrorResponse><Error><Code>ExpiredTokenException</Code>"
                               "</Error></ErrorResponse>"),
               "ExpiredTokenException");
  cr_assert_not(sts_error_code("<Code>a b&amp;</Code>").has_value());
  cr_assert_not(sts_error_code("<Code>unterminated").has_value());
}

Test(credential_replies, json_credentials_skip_other_members) {
  auto c = parse_json_credentials(kJsonReply);
  cr_assert_not(c.ok(), "a token with a non-ASCII byte cannot go in a header");
  std::string clean = kJsonReply;
  clean.replace(clean.find("se\\\"cr\\\\et"), 10, "se\\/cret");
  clean.replace(clean.find("t\\u00e9"), 7, "t\\u0041\\ud83d\\ude00");
  auto members = json_string_members(clean);
  cr_assert(members.ok(), "%s", members.ok() ? "" : members.error().message.c_str());
  cr_assert_eq(members->at("SecretAccessKey"), "se/cret");
  cr_assert_eq(members->at("Token"), "tA\xf0\x9f\x98\x80");
  cr_assert_eq(members->count("Nested"), 0u);
  cr_assert_eq(members->count("Flag"), 0u);
  std::string ascii = kJsonReply;
  ascii.replace(ascii.find("se\\\"cr\\\\et"), 10, "SECRET");
  ascii.replace(ascii.find("t\\u00e9"), 7, "TOKEN");
  c = parse_json_credentials(ascii);
  cr_assert(c.ok(), "%s", c.ok() ? "" : c.error().message.c_str());
  cr_assert_eq(c->access_key_id, "ASIAJSON");
  cr_assert_eq(c->secret_access_key, "SECRET");
  cr_assert_eq(c->session_token, "TOKEN");
  cr_assert_eq(c->expires_ns, int64_t{1796126400} * kSecond);
}

Test(credential_replies, json_strictness) {
  for (const char* bad :
       {"", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":\"x\"} trailing",
        "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800x\"}",
        "{\"a\":\"raw\nnewline\"}", "{\"a\":tru}", "{\"a\":[1,,2]}", "{\"a\":{\"b\" 1}}",
        "{\"a\":\"1\",\"a\":\"2\"}", "{'a':'b'}", "{\"a\":[}", "{\"a\":{]}"}) {
    cr_assert_not(json_string_members(bad).ok(), "%s", bad);
  }
  std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  cr_assert_not(json_string_members(deep).ok());
  std::string fine = "{\"a\":" + std::string(30, '[') + std::string(30, ']') + "}";
  cr_assert(json_string_members(fine).ok());
  cr_assert(json_string_members(" { } ").ok());
  auto missing = parse_json_credentials("{\"AccessKeyId\":\"A\"}");
  cr_assert(missing.error().code == ErrorCode::kInvalid);
  auto failure = parse_json_credentials("{\"Code\":\"AssumeRoleUnauthorizedAccess\"}");
  cr_assert(failure.error().code == ErrorCode::kIo);
  cr_assert_eq(failure.error().message, "credentials reply says Code AssumeRoleUnauthorizedAccess");
}

Test(credential_replies, json_every_truncation_is_an_error) {
  std::string ascii = kJsonReply;
  ascii.replace(ascii.find("se\\\"cr\\\\et"), 10, "SECRET");
  for (std::size_t n = 0; n < ascii.size(); ++n) {
    auto c = parse_json_credentials(ascii.substr(0, n));
    cr_assert_not(c.ok(), "cut at %zu", n);
    cr_assert(c.error().message.find("SECRET") == std::string::npos);
  }
}

Test(credential_replies, garbled_replies_never_crash_or_leak) {
  std::mt19937 random(14);
  std::string ascii = kJsonReply;
  ascii.replace(ascii.find("se\\\"cr\\\\et"), 10, "SECRET");
  int json_ok = 0;
  int xml_ok = 0;
  for (int i = 0; i < 20000; ++i) {
    auto j = parse_json_credentials(garbled(ascii, random));
    auto x = parse_sts_reply(garbled(kStsReply, random));
    json_ok += j.ok();
    xml_ok += x.ok();
    if (!j.ok()) cr_assert(j.error().message.find("SECRET") == std::string::npos);
    if (!x.ok()) cr_assert(x.error().message.find("wJalr") == std::string::npos);
    if (j.ok()) cr_assert_not(j->access_key_id.empty());
  }
  // Most garbles break the reply; a few land outside the fields read.
  cr_assert(json_ok < 20000 && xml_ok < 20000);
  std::string noise;
  for (int i = 0; i < 5000; ++i) {
    noise.assign(random() % 300, '\0');
    for (char& c : noise) c = static_cast<char>(random() % 256);
    (void)parse_json_credentials(noise);
    (void)parse_sts_reply(noise);
    (void)sts_error_code(noise);
    (void)parse_iso8601_ns(noise);
  }
}

Test(credential_replies, iso8601_times) {
  const int64_t noon = int64_t{1796126400} * kSecond;
  cr_assert_eq(*parse_iso8601_ns("2026-12-01T12:00:00Z"), noon);
  cr_assert_eq(*parse_iso8601_ns("2026-12-01T12:00:00.123456789Z"), noon + 123456789);
  cr_assert_eq(*parse_iso8601_ns("2026-12-01T12:00:00.1234567891Z"), noon + 123456789);
  cr_assert_eq(*parse_iso8601_ns("2026-12-01T13:30:00+01:30"), noon);
  cr_assert_eq(*parse_iso8601_ns("2026-12-01T10:00:00-02:00"), noon);
  cr_assert_eq(*parse_iso8601_ns("1970-01-01T00:00:00Z"), 0);
  cr_assert_eq(*parse_iso8601_ns("2000-02-29T00:00:00Z"), int64_t{951782400} * kSecond);
  cr_assert_eq(*parse_iso8601_ns("1969-12-31T23:59:59Z"), -kSecond);
  for (const char* bad :
       {"", "2026-12-01", "2026-12-01T12:00:00", "2026-12-01 12:00:00Z", "2026-13-01T12:00:00Z",
        "2026-12-00T12:00:00Z", "2026-12-01T24:00:00Z", "2026-12-01T12:60:00Z",
        "2026-12-01T12:00:00.Z", "2026-12-01T12:00:00Zjunk", "2026-12-01T12:00:00+0100",
        "+2026-12-01T12:00:00Z", "2026-1-01T12:00:00Z", "9999-12-31T23:59:59Z",
        "1000-01-01T00:00:00Z", "２026-12-01T12:00:00Z"}) {
    cr_assert_not(parse_iso8601_ns(bad).has_value(), "%s", bad);
  }
}

Test(credential_replies, credentials_must_fit_in_headers) {
  Credentials c;
  c.access_key_id = "AKID";
  c.secret_access_key = "s/+=";
  cr_assert(check_credentials(c, "x").ok());
  for (const char* bad_id : {"A/B", "A,B", "A B", "A\nB"}) {
    Credentials bad = c;
    bad.access_key_id = bad_id;
    cr_assert_not(check_credentials(bad, "x").ok(), "%s", bad_id);
  }
  Credentials bad = c;
  bad.secret_access_key = "secret\r\nX-Injected: 1";
  auto status = check_credentials(bad, "where");
  cr_assert(status.error().code == ErrorCode::kInvalid);
  cr_assert(status.error().message.find("secret\r") == std::string::npos);
  bad = c;
  bad.session_token = "tok\xc3\xa9";
  cr_assert_not(check_credentials(bad, "x").ok());
}
