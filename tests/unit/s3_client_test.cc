// The S3 client (s3/client.h) over a scripted transport: what it sends, how
// it reads S3's answers, what it retries; and its small parsers (URLs,
// locations, times, XML).
#include <criterion/criterion.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fake_s3.h"
#include "s3/blobs.h"
#include "s3/client.h"
#include "s3/times.h"
#include "s3/xml.h"

using namespace iafs;
using namespace iafs::s3;
using namespace iafs::test;

namespace {

PutOptions create_if_absent(std::vector<Header> metadata = {}) {
  PutOptions options;
  options.if_none_match = true;
  options.metadata = std::move(metadata);
  return options;
}

std::vector<uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }

}  // namespace

Test(s3_client, a_create_if_absent_put_is_signed_with_its_payload_hash) {
  Fixture f;
  f.http.script = {reply(200)};
  auto body = bytes("hello");
  PutOptions options = create_if_absent({{"sha256", "abc"}});
  auto put = f.client->put("log/00000000000000000001", body, options);
  cr_assert(put.ok() && *put == PutResult::kCreated);
  cr_assert_eq(f.http.sent.size(), 1u);
  const HttpRequest& r = f.http.sent[0].request;
  cr_assert_eq(r.method, "PUT");
  cr_assert_str_eq(r.url.c_str(), "http://127.0.0.1:7480/bucket/site/log/00000000000000000001");
  cr_assert_eq(f.http.sent[0].body, "hello");
  cr_assert_str_eq(f.http.header(0, "if-none-match")->c_str(), "*");
  cr_assert_str_eq(f.http.header(0, "x-amz-meta-sha256")->c_str(), "abc");
  cr_assert_str_eq(f.http.header(0, "host")->c_str(), "127.0.0.1:7480");
  cr_assert_str_eq(f.http.header(0, "x-amz-content-sha256")->c_str(),
                   "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  const std::string* auth = f.http.header(0, "authorization");
  cr_assert(auth != nullptr);
  cr_assert(auth->find("Credential=AKIDFIRST/") != std::string::npos, "%s", auth->c_str());
  cr_assert(auth->find("if-none-match") != std::string::npos, "if-none-match is signed");
}

Test(s3_client, a_taken_key_is_exists_for_412_and_409_and_an_error_without_the_condition) {
  Fixture f;
  auto body = bytes("x");
  for (long status : {412L, 409L}) {
    f.http.script = {reply(status, error_body("PreconditionFailed"))};
    auto put = f.client->put("t/a", body, create_if_absent());
    cr_assert(put.ok() && *put == PutResult::kExists, "%ld", status);
  }
  f.http.script = {reply(412, error_body("PreconditionFailed"))};
  auto plain = f.client->put("t/a", body, PutOptions{});
  cr_assert_not(plain.ok());
  cr_assert(plain.error().message.find("412 PreconditionFailed") != std::string::npos);
}

Test(s3_client, server_errors_and_lost_connections_are_retried_then_succeed) {
  Fixture f;
  f.http.script = {reply(503, error_body("SlowDown")), make_error(ErrorCode::kIo, "reset"),
                   reply(500), reply(200)};
  auto body = bytes("x");
  auto put = f.client->put("b/1", body, PutOptions{});
  cr_assert(put.ok() && *put == PutResult::kCreated);
  cr_assert_eq(f.http.sent.size(), 4u);
  for (const auto& sent : f.http.sent) cr_assert_eq(sent.body, "x", "the same bytes each time");
}

Test(s3_client, retries_stop_at_the_deadline_with_the_last_answer) {
  Fixture f;
  f.http.script = {reply(503, error_body("SlowDown"))};
  auto got = f.client->get("b/1", std::nullopt, Deadline::after_ms(300));
  cr_assert_not(got.ok());
  cr_assert_eq(got.error().code, ErrorCode::kIo);
  cr_assert(got.error().message.find("503 SlowDown") != std::string::npos, "%s",
            got.error().message.c_str());
  cr_assert_gt(f.http.sent.size(), 1u);
  cr_assert_lt(f.http.sent.size(), 40u, "backoff, not a busy loop");
}

Test(s3_client, other_client_errors_are_not_retried_and_name_their_code) {
  Fixture f;
  f.http.script = {reply(403, error_body("SignatureDoesNotMatch", "bad sig"))};
  auto got = f.client->head("b/1");
  cr_assert_not(got.ok());
  cr_assert_eq(got.error().code, ErrorCode::kPermission);
  cr_assert_eq(f.http.sent.size(), 1u);
  f.http.sent.clear();
  f.http.script = {reply(403, error_body("AccessDenied", "no"))};
  auto put = f.client->put("b/1", bytes("x"), PutOptions{});
  cr_assert_not(put.ok());
  cr_assert(put.error().message.find("403 AccessDenied: no") != std::string::npos, "%s",
            put.error().message.c_str());
  cr_assert(put.error().message.find("secret-first") == std::string::npos, "no secret");
  cr_assert_eq(f.http.sent.size(), 1u);
}

Test(s3_client, an_expired_token_reloads_the_credentials_once) {
  Fixture f;
  f.http.script = {reply(400, error_body("ExpiredToken")), reply(200, "abc")};
  auto first = f.credentials->get(0);
  cr_assert(first.ok());
  (*f.env.vars)["AWS_ACCESS_KEY_ID"] = "AKIDSECOND";
  auto got = f.client->get("b/1");
  cr_assert(got.ok() && got->has_value());
  cr_assert_eq((*got)->bytes, "abc");
  cr_assert_eq(f.http.sent.size(), 2u);
  cr_assert(f.http.header(1, "authorization")->find("AKIDSECOND/") != std::string::npos);
  // Still expired after the reload: an error, not a loop.
  f.http.sent.clear();
  f.http.script = {reply(400, error_body("ExpiredToken"))};
  auto again = f.client->get("b/1");
  cr_assert_not(again.ok());
  cr_assert_eq(f.http.sent.size(), 2u);
}

Test(s3_client, a_missing_key_is_nullopt_and_a_missing_bucket_an_error) {
  Fixture f;
  f.http.script = {reply(404, error_body("NoSuchKey"))};
  auto got = f.client->get("log/9");
  cr_assert(got.ok() && !got->has_value());
  f.http.script = {reply(404)};
  auto head = f.client->head("log/9");
  cr_assert(head.ok() && !head->has_value());
  f.http.sent.clear();
  f.http.script = {reply(404, error_body("NoSuchBucket"))};
  auto none = f.client->get("log/9");
  cr_assert_not(none.ok());
  cr_assert_eq(none.error().code, ErrorCode::kNotFound);
  f.http.script = {reply(404, error_body("NoSuchKey"))};
  cr_assert(f.client->remove("log/9").ok(), "deleting what is gone is fine");
}

Test(s3_client, a_ranged_get_asks_for_the_range_and_reads_the_total_size) {
  Fixture f;
  f.http.script = {reply(206, "3456",
                         {{"content-range", "bytes 3-6/100"},
                          {"content-length", "4"},
                          {"etag", "\"e\""},
                          {"x-amz-meta-sha256", "ff"},
                          {"last-modified", "Tue, 01 Dec 2026 23:11:06 GMT"}})};
  auto got = f.client->get("b/1", ByteRange{3, 4});
  cr_assert(got.ok() && got->has_value());
  cr_assert_str_eq(f.http.header(0, "range")->c_str(), "bytes=3-6");
  cr_assert_eq((*got)->bytes, "3456");
  cr_assert_eq((*got)->info.size, 100u);
  cr_assert((*got)->info.first == 3u, "the answer's first byte, from Content-Range");
  cr_assert_eq((*got)->info.etag, "\"e\"");
  cr_assert_eq((*got)->info.metadata.size(), 1u);
  cr_assert_eq((*got)->info.metadata[0].name, "sha256");
  cr_assert_eq((*got)->info.last_modified_ns, *parse_iso8601_ns("2026-12-01T23:11:06Z"));
}

Test(s3_client, a_listing_page_is_read_under_the_prefix) {
  Fixture f;
  f.http.script = {reply(200,
                         "<?xml version=\"1.0\"?><ListBucketResult><Name>bucket</Name>"
                         "<Prefix>site/log/</Prefix><KeyCount>2</KeyCount>"
                         "<Contents><Key>site/log/a&amp;b</Key><LastModified>2026-12-01T23:11:06.5Z"
                         "</LastModified><ETag>&quot;e1&quot;</ETag><Size>12</Size></Contents>"
                         "<Contents><Key>site/log/c d</Key><Size>0</Size></Contents>"
                         "<CommonPrefixes><Prefix>site/log/x/</Prefix></CommonPrefixes>"
                         "<IsTruncated>true</IsTruncated>"
                         "<NextContinuationToken>site/log/c d</NextContinuationToken>"
                         "</ListBucketResult>")};
  ListQuery query;
  query.prefix = "log/";
  query.start_after = "log/0";
  query.max_keys = 2;
  auto page = f.client->list(query);
  cr_assert(page.ok(), "%s", page.ok() ? "" : page.error().message.c_str());
  cr_assert_eq(page->objects.size(), 2u);
  cr_assert_eq(page->objects[0].key, "log/a&b");
  cr_assert_eq(page->objects[0].etag, "\"e1\"");
  cr_assert_eq(page->objects[0].size, 12u);
  cr_assert_eq(page->objects[0].last_modified_ns,
               *parse_iso8601_ns("2026-12-01T23:11:06Z") + 500000000);
  cr_assert_eq(page->objects[1].key, "log/c d");
  cr_assert_eq(page->prefixes.size(), 1u);
  cr_assert_eq(page->prefixes[0], "log/x/");
  cr_assert_eq(page->next_token, "site/log/c d");
  const std::string& url = f.http.sent[0].request.url;
  cr_assert(url.starts_with("http://127.0.0.1:7480/bucket?"), "%s", url.c_str());
  cr_assert(url.find("prefix=site%2Flog%2F") != std::string::npos, "%s", url.c_str());
  cr_assert(url.find("start-after=site%2Flog%2F0") != std::string::npos, "%s", url.c_str());
}

Test(s3_client, a_misread_listing_is_an_error_never_a_short_page) {
  const char* bodies[] = {
      "",
      "<html>proxy error</html>",
      "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
      "<ListBucketResult><Contents><Key>other/x</Key><Size>1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key>site/b</Key><Size>1</Size></Contents>"
      "<Contents><Key>site/a</Key><Size>1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key>site/&bogus;</Key><Size>1</Size></Contents>"
      "</ListBucketResult>",
      "<ListBucketResult><Contents><Key>site/a</Key></Contents></ListBucketResult>",
  };
  for (const char* body : bodies) {
    Fixture f;
    f.http.script = {reply(200, body)};
    auto page = f.client->list(ListQuery{});
    cr_assert_not(page.ok(), "accepted: %s", body);
    cr_assert_eq(page.error().code, ErrorCode::kIo);
  }
}

Test(s3_client, virtual_host_style_puts_the_bucket_in_the_host) {
  Fixture f("my-bucket", false, "https://s3.eu-west-1.amazonaws.com");
  f.http.script = {reply(200,
                         "<VersioningConfiguration><Status>Suspended</Status>"
                         "</VersioningConfiguration>")};
  auto status = f.client->versioning();
  cr_assert(status.ok() && *status == "Suspended");
  cr_assert_str_eq(f.http.sent[0].request.url.c_str(),
                   "https://my-bucket.s3.eu-west-1.amazonaws.com/?versioning=");
  cr_assert_str_eq(f.http.header(0, "host")->c_str(), "my-bucket.s3.eu-west-1.amazonaws.com");
  f.http.script = {reply(200, "<VersioningConfiguration/>")};
  auto never = f.client->versioning();
  cr_assert(never.ok() && never->empty());
}

Test(s3_client, the_clock_skew_is_read_from_the_date_header) {
  Fixture f;
  f.http.script = {reply(200, "", {{"date", "Thu, 01 Jan 2015 00:00:00 GMT"}})};
  cr_assert(f.client->head("b/1").ok());
  cr_assert_lt(f.client->clock_skew_ns(), -300LL * 24 * 3600 * 1000000000LL);
}

Test(s3_location, buckets_prefixes_endpoints_and_regions) {
  auto ok = make_location("bucket/a/b/", "", "eu-west-1", false);
  cr_assert(ok.ok());
  cr_assert_eq(ok->bucket, "bucket");
  cr_assert_eq(ok->prefix, "a/b/");
  cr_assert_eq(ok->endpoint.authority, "s3.eu-west-1.amazonaws.com");
  cr_assert_eq(ok->endpoint.scheme, "https");
  auto bare = make_location("bucket/", "http://[::1]:9000/", "us-east-1", true);
  cr_assert(bare.ok() && bare->prefix.empty());
  cr_assert_eq(bare->endpoint.authority, "[::1]:9000");
  const std::string bad_specs[] = {"",
                                   "ab",
                                   "Bucket",
                                   "-bucket",
                                   "bucket-",
                                   "a..b",
                                   "192.168.0.1",
                                   "bucket/a//b",
                                   "bucket/./a",
                                   "bucket/a/../b",
                                   "bucket/a\nb",
                                   "bu_cket",
                                   std::string(64, 'a')};
  for (const std::string& spec : bad_specs) {
    auto bad = make_location(spec, "", "us-east-1", true);
    cr_assert_not(bad.ok(), "accepted s3=%s", spec.c_str());
    cr_assert_eq(bad.error().code, ErrorCode::kInvalid);
  }
  cr_assert_not(make_location("my.bucket", "", "us-east-1", false).ok(),
                "a dotted bucket over https");
  cr_assert(make_location("my.bucket", "", "us-east-1", true).ok());
  cr_assert_not(make_location("bucket", "", "", true).ok());
  cr_assert_not(make_location("bucket", "", "us east", true).ok());
}

Test(s3_url, only_plain_http_urls) {
  auto url = parse_url("HTTP://Example.COM:8080/base");
  cr_assert(url.ok());
  cr_assert_eq(url->scheme, "http");
  cr_assert_eq(url->host, "example.com");
  cr_assert_eq(url->authority, "example.com:8080");
  cr_assert_eq(url->path, "/base");
  const char* bad[] = {"ftp://x",          "x",
                       "http://",          "http://u:p@host/",
                       "http://host/?a=b", "http://host/#f",
                       "http://host:0/",   "http://host:65536/",
                       "http://host:x/",   "http://ho st/",
                       "http://host/a b"};
  for (const char* text : bad) cr_assert_not(parse_url(text).ok(), "accepted %s", text);
}

Test(s3_times, iso_8601_and_http_dates) {
  cr_assert_eq(*parse_iso8601_ns("1970-01-01T00:00:00Z"), 0);
  cr_assert_eq(*parse_iso8601_ns("2000-03-01T00:00:00.000000001Z"), 951868800000000001LL);
  cr_assert_eq(*parse_iso8601_ns("2026-12-01T23:11:06+00:00"),
               *parse_http_date_ns("Tue, 01 Dec 2026 23:11:06 GMT"));
  const char* bad[] = {"",
                       "2026-12-01",
                       "2026-13-01T00:00:00Z",
                       "2026-02-30T00:00:00Z",
                       "2025-02-29T00:00:00Z",
                       "2026-12-01T24:00:00Z",
                       "2026-12-01T23:11:06",
                       "2026-12-01T23:11:06.Z",
                       "2026-12-01T23:11:06+1:00",
                       "2026-12-01T23:11:06+24:00",
                       "2026-12-01 23:11:06Z",
                       "1899-12-31T00:00:00Z",
                       "2201-01-01T00:00:00Z"};
  for (const char* text : bad) cr_assert_not(parse_iso8601_ns(text).has_value(), "%s", text);
  cr_assert(parse_iso8601_ns("2024-02-29T00:00:00Z").has_value());
  cr_assert_eq(*parse_iso8601_ns("2026-12-02T00:41:06+01:30"),
               *parse_iso8601_ns("2026-12-01T23:11:06Z"));
  cr_assert_not(parse_http_date_ns("Tue, 01 Foo 2026 23:11:06 GMT").has_value());
  cr_assert_not(parse_http_date_ns("Tue, 01 Dec 2026 23:11:06 UTC").has_value());
}

Test(s3_xml, elements_text_and_entities) {
  std::string xml = "<A><Key>1</Key><KeyCount>9</KeyCount><Key >2&lt;&#x41;&#66;</Key><Key/></A>";
  auto keys = xml_elements(xml, "Key");
  cr_assert_eq(keys.size(), 3u);
  cr_assert_eq(keys[0], "1");
  cr_assert_eq(*xml_decode(keys[1]), "2<AB");
  cr_assert_eq(keys[2], "");
  cr_assert_eq(*xml_text(xml, "KeyCount"), "9");
  cr_assert_eq(*xml_decode("&#x20AC;&#128512;"), "\u20ac\U0001F600");
  const char* bad[] = {"&",          "&amp", "&nope;", "&#0;",  "&#xD800;",
                       "&#x110000;", "&#;",  "&#x;",   "&#12a;"};
  for (const char* text : bad) cr_assert_not(xml_decode(text).has_value(), "%s", text);
  cr_assert(xml_elements("<Key>unterminated", "Key").empty());
  cr_assert(xml_elements("<Key", "Key").empty());
  cr_assert(!xml_text("", "Key").has_value());
}

namespace {

BlobId sha256_id(const std::string& bytes) {
  std::string hex = sha256_hex(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  BlobId id{};
  for (size_t i = 0; i < id.size(); ++i)
    id[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return id;
}

// A source whose bytes change after the first `stable` bytes were read.
class ChangingSource final : public BlobSource {
 public:
  ChangingSource(std::string bytes, uint64_t stable) : bytes_(std::move(bytes)), stable_(stable) {}
  uint64_t size() const override { return bytes_.size(); }
  Status read(uint64_t offset, std::span<uint8_t> out) const override {
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] = static_cast<uint8_t>(bytes_[offset + i]) ^ (offset + i >= stable_ ? 1 : 0);
    }
    return Status::Ok();
  }

 private:
  std::string bytes_;
  uint64_t stable_;
};

}  // namespace

Test(s3_blobs, a_new_blob_is_one_create_if_absent_put_proved_by_its_hash) {
  Fixture f;
  std::string bytes = "an original's bytes";
  BlobId id = sha256_id(bytes);
  f.http.script = {reply(404), reply(200)};
  SpanSource source(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  auto put = put_blob(*f.client, id, source, 0x1234, Deadline::after_ms(5000));
  cr_assert(put.ok() && *put == PutResult::kCreated);
  cr_assert_eq(f.http.sent.size(), 2u);
  cr_assert_eq(f.http.sent[0].request.method, "HEAD");
  cr_assert_eq(f.http.sent[1].request.method, "PUT");
  cr_assert(f.http.sent[1].request.url.ends_with("/bucket/site/" + blob_key(id)));
  cr_assert_eq(f.http.sent[1].body, bytes);
  cr_assert_eq(*f.http.header(1, "x-amz-content-sha256"), blob_id_hex(id));
  cr_assert_str_eq(f.http.header(1, "if-none-match")->c_str(), "*");
  cr_assert_str_eq(f.http.header(1, "x-amz-meta-xxh3")->c_str(), "0000000000001234");
}

Test(s3_blobs, a_blob_already_there_is_not_sent_again) {
  Fixture f;
  std::string bytes = "abc";
  SpanSource source(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), 3));
  f.http.script = {reply(200, "", {{"content-length", "3"}})};
  auto put = put_blob(*f.client, sha256_id(bytes), source, 0, Deadline::after_ms(5000));
  cr_assert(put.ok() && *put == PutResult::kExists);
  cr_assert_eq(f.http.sent.size(), 1u);
  f.http.sent.clear();
  f.http.script = {reply(200, "", {{"content-length", "4"}})};
  auto wrong = put_blob(*f.client, sha256_id(bytes), source, 0, Deadline::after_ms(5000));
  cr_assert_not(wrong.ok(), "an object of another size under the hash is not ours");
  f.http.sent.clear();
  f.http.script = {reply(404), reply(412, error_body("PreconditionFailed"))};
  auto raced = put_blob(*f.client, sha256_id(bytes), source, 0, Deadline::after_ms(5000));
  cr_assert(raced.ok() && *raced == PutResult::kExists, "another host put it between");
}

Test(s3_blobs, a_large_blob_goes_in_checked_parts) {
  Fixture f;
  std::string bytes(kSinglePutLimit + (1 << 20) + 7, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 2654435761u >> 13);
  BlobId id = sha256_id(bytes);
  std::vector<Result<HttpResponse>> script;
  script.push_back(reply(404));
  script.push_back(reply(200,
                         "<InitiateMultipartUploadResult><UploadId>up&amp;1</UploadId>"
                         "</InitiateMultipartUploadResult>"));
  for (int part = 1; part <= 5; ++part) {
    script.push_back(reply(200, "", {{"etag", "\"e" + std::to_string(part) + "\""}}));
  }
  script.push_back(reply(200, "<CompleteMultipartUploadResult/>"));
  f.http.script = script;
  SpanSource source(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  auto put = put_blob(*f.client, id, source, 0, Deadline::after_ms(5000));
  cr_assert(put.ok(), "%s", put.ok() ? "" : put.error().message.c_str());
  cr_assert_eq(f.http.sent.size(), 8u);
  cr_assert(f.http.sent[1].request.url.ends_with("?uploads="), "%s",
            f.http.sent[1].request.url.c_str());
  std::string joined;
  for (int part = 1; part <= 5; ++part) {
    const auto& sent = f.http.sent[1 + part];
    cr_assert(sent.request.url.find("partNumber=" + std::to_string(part) + "&uploadId=up%261") !=
                  std::string::npos,
              "%s", sent.request.url.c_str());
    cr_assert_eq(*f.http.header(1 + part, "x-amz-content-sha256"),
                 sha256_hex(std::span<const uint8_t>(
                     reinterpret_cast<const uint8_t*>(sent.body.data()), sent.body.size())));
    joined += sent.body;
  }
  cr_assert(joined == bytes, "the parts are the bytes, in order");
  cr_assert(f.http.sent[7].body.find(
                "<Part><PartNumber>5</PartNumber><ETag>&quot;e5&quot;</ETag>") != std::string::npos,
            "%s", f.http.sent[7].body.c_str());
}

Test(s3_blobs, bytes_that_change_while_sent_are_never_stored) {
  Fixture f;
  std::string bytes(kSinglePutLimit + 100, 'x');
  BlobId id = sha256_id(bytes);
  ChangingSource source(bytes, kPartSize * 2);
  std::vector<Result<HttpResponse>> script;
  script.push_back(reply(404));
  script.push_back(reply(200,
                         "<InitiateMultipartUploadResult><UploadId>u</UploadId>"
                         "</InitiateMultipartUploadResult>"));
  for (int part = 1; part <= 5; ++part) script.push_back(reply(200, "", {{"etag", "\"e\""}}));
  script.push_back(reply(204));
  f.http.script = script;
  auto put = put_blob(*f.client, id, source, 0, Deadline::after_ms(5000));
  cr_assert_not(put.ok());
  cr_assert(put.error().message.find("changed") != std::string::npos, "%s",
            put.error().message.c_str());
  cr_assert_eq(f.http.sent.back().request.method, "DELETE", "the upload is aborted");
  for (const auto& sent : f.http.sent) {
    cr_assert(
        sent.request.method != "POST" || sent.request.url.find("uploadId") == std::string::npos,
        "never completed");
  }
  // A single PUT: the server's hash check refuses it.
  Fixture g;
  std::string small = "small";
  ChangingSource changing(small, 2);
  g.http.script = {reply(404), reply(400, error_body("XAmzContentSHA256Mismatch"))};
  auto refused = put_blob(*g.client, sha256_id(small), changing, 0, Deadline::after_ms(5000));
  cr_assert_not(refused.ok());
  cr_assert(refused.error().message.find("changed") != std::string::npos);
}
