// Unit tests of SigV4 signing (s3/sigv4.h): AWS's published S3 examples
// ("Signature Calculations for the Authorization Header: Transferring Payload
// in a Single Chunk") byte for byte, then the encoding and header rules.
#include "s3/sigv4.h"

#include <criterion/criterion.h>

#include <cctype>
#include <cstdio>
#include <span>
#include <string>
#include <thread>
#include <vector>

using namespace iafs::s3;

namespace {

constexpr int64_t kExampleTime = int64_t{1369353600} * 1000000000;  // 20130524T000000Z
const char* const kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const char* const kHost = "examplebucket.s3.amazonaws.com";

Credentials example_credentials() {
  Credentials c;
  c.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  return c;
}

RequestToSign example_request(std::string method, std::string path) {
  RequestToSign r;
  r.method = std::move(method);
  r.host = kHost;
  r.path = std::move(path);
  r.payload_sha256_hex = kEmpty;
  return r;
}

std::string header(const SignedRequest& s, const std::string& name) {
  for (const Header& h : s.headers) {
    if (h.name == name) return h.value;
  }
  return "(absent)";
}

std::string names_of(const SignedRequest& s) {
  std::string out;
  for (const Header& h : s.headers) out += h.name + ";";
  return out;
}

}  // namespace

Test(sigv4, published_get_object_with_range) {
  RequestToSign r = example_request("GET", "/test.txt");
  r.headers = {{"range", "bytes=0-9"}};
  SignatureSteps steps = signature_steps(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert_eq(steps.canonical_request,
               "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
               "x-amz-content-sha256:" +
                   std::string(kEmpty) +
                   "\nx-amz-date:20130524T000000Z\n\n"
                   "host;range;x-amz-content-sha256;x-amz-date\n" +
                   kEmpty);
  cr_assert_eq(steps.string_to_sign,
               "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
               "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  cr_assert_eq(steps.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  SignedRequest s = sign_v4(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert_eq(s.target, "/test.txt");
  cr_assert_eq(names_of(s), "range;x-amz-content-sha256;x-amz-date;authorization;");
  cr_assert_eq(header(s, "x-amz-date"), "20130524T000000Z");
  cr_assert_eq(header(s, "authorization"),
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
               "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
               "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

Test(sigv4, published_put_object) {
  RequestToSign r = example_request("PUT", "/test$file.text");
  r.payload_sha256_hex = sha256_hex(std::string_view("Welcome to Amazon S3."));
  cr_assert_eq(r.payload_sha256_hex,
               "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  r.headers = {{"date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  SignatureSteps steps = signature_steps(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert_eq(
      steps.canonical_request,
      "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
      "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
      "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
      "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  cr_assert_eq(steps.string_to_sign,
               "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
               "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  cr_assert_eq(steps.authorization,
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
               "aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
               "x-amz-storage-class,"
               "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  cr_assert_eq(sign_v4(r, example_credentials(), "us-east-1", kExampleTime).target,
               "/test%24file.text");
}

Test(sigv4, published_get_bucket_lifecycle) {
  RequestToSign r = example_request("GET", "/");
  r.query = {{"lifecycle", ""}};
  SignatureSteps steps = signature_steps(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert_eq(steps.canonical_request,
               "GET\n/\nlifecycle=\nhost:examplebucket.s3.amazonaws.com\n"
               "x-amz-content-sha256:" +
                   std::string(kEmpty) +
                   "\nx-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n" +
                   kEmpty);
  cr_assert_eq(steps.string_to_sign,
               "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
               "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  cr_assert_eq(steps.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  cr_assert_eq(sign_v4(r, example_credentials(), "us-east-1", kExampleTime).target, "/?lifecycle=");
}

Test(sigv4, published_get_bucket_list_objects_with_query_out_of_order) {
  RequestToSign r = example_request("GET", "/");
  r.query = {{"prefix", "J"}, {"max-keys", "2"}};
  SignatureSteps steps = signature_steps(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert_eq(steps.canonical_request,
               "GET\n/\nmax-keys=2&prefix=J\nhost:examplebucket.s3.amazonaws.com\n"
               "x-amz-content-sha256:" +
                   std::string(kEmpty) +
                   "\nx-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n" +
                   kEmpty);
  cr_assert_eq(steps.string_to_sign,
               "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
               "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  cr_assert_eq(steps.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  SignedRequest s = sign_v4(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert_eq(s.target, "/?max-keys=2&prefix=J");
  cr_assert_eq(header(s, "authorization"),
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
               "aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
               "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

Test(sigv4, published_signing_key_derivation) {
  // AWS's general SigV4 documentation: 20150830/us-east-1/iam.
  auto key = derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1",
                                "iam");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t b : key) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  cr_assert_eq(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

Test(sigv4, session_token_is_sent_and_signed) {
  RequestToSign r = example_request("GET", "/test.txt");
  Credentials c = example_credentials();
  std::string without = signature_steps(r, c, "us-east-1", kExampleTime).signature;
  c.session_token = "FQoGZXIvYXdzEJr//////////wEaDOdPtoken+/=";
  SignatureSteps steps = signature_steps(r, c, "us-east-1", kExampleTime);
  cr_assert_eq(steps.signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
  cr_assert(steps.canonical_request.find("\nx-amz-security-token:" + c.session_token + "\n") !=
            std::string::npos);
  cr_assert_neq(steps.signature, without);
  SignedRequest s = sign_v4(r, c, "us-east-1", kExampleTime);
  cr_assert_eq(names_of(s), "x-amz-content-sha256;x-amz-date;x-amz-security-token;authorization;");
  cr_assert_eq(header(s, "x-amz-security-token"), c.session_token);
}

Test(sigv4, query_names_and_values_are_encoded_then_sorted) {
  RequestToSign r = example_request("GET", "/bucket");
  r.query = {{"start-after", "log/00000000000000000007"}, {"prefix", "a b"}, {"list-type", "2"}};
  SignedRequest s = sign_v4(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert_eq(s.target, "/bucket?list-type=2&prefix=a%20b&start-after=log%2F00000000000000000007");
  SignatureSteps steps = signature_steps(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert(steps.canonical_request.find(
                "\nlist-type=2&prefix=a%20b&start-after=log%2F00000000000000000007\n") !=
            std::string::npos);
  // Encoded forms sort: "%2B" < "A" < "a"; a repeated name sorts by value.
  r.query = {{"a", "2"}, {"A", "x"}, {"+", "1=2&3"}, {"a", "1"}, {"continuation-token", "1/+ ="}};
  cr_assert_eq(sign_v4(r, example_credentials(), "us-east-1", kExampleTime).target,
               "/bucket?%2B=1%3D2%263&A=x&a=1&a=2&continuation-token=1%2F%2B%20%3D");
  r.query = {{"uploads", ""}};
  cr_assert_eq(sign_v4(r, example_credentials(), "us-east-1", kExampleTime).target,
               "/bucket?uploads=");
}

Test(sigv4, path_segments_are_encoded_once_with_slashes_kept) {
  RequestToSign r = example_request("PUT", "/bucket/photos/a b/été+=~x_y-z.(1)/%41*");
  SignedRequest s = sign_v4(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert_eq(s.target, "/bucket/photos/a%20b/%C3%A9t%C3%A9%2B%3D~x_y-z.%281%29/%2541%2A");
  SignatureSteps steps = signature_steps(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert_eq(steps.canonical_request.substr(0, steps.canonical_request.find('\n', 4)),
               "PUT\n" + s.target);
  cr_assert_eq(
      sign_v4(example_request("GET", ""), example_credentials(), "us-east-1", kExampleTime).target,
      "/");
}

Test(sigv4, every_request_header_is_signed_lowercase_and_sorted) {
  RequestToSign r = example_request("PUT", "/bucket/t/abc");
  r.headers = {{"X-Amz-Meta-Zeta", "z"},       {"If-None-Match", "*"},
               {"Content-Type", "image/jpeg"}, {"range", "bytes=0-99"},
               {"x-amz-meta-alpha", "a"},      {"content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="}};
  SignatureSteps steps = signature_steps(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert_eq(steps.signed_headers,
               "content-md5;content-type;host;if-none-match;range;x-amz-content-sha256;"
               "x-amz-date;x-amz-meta-alpha;x-amz-meta-zeta");
  cr_assert(steps.canonical_request.find("\nif-none-match:*\n") != std::string::npos);
  cr_assert(steps.canonical_request.find("\nx-amz-meta-zeta:z\n") != std::string::npos);
  SignedRequest s = sign_v4(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert_eq(names_of(s),
               "x-amz-meta-zeta;if-none-match;content-type;range;x-amz-meta-alpha;content-md5;"
               "x-amz-content-sha256;x-amz-date;authorization;");
  // Each signed header changes the signature.
  for (std::size_t i = 0; i < r.headers.size(); ++i) {
    RequestToSign changed = r;
    changed.headers[i].value += "0";
    cr_assert_neq(
        signature_steps(changed, example_credentials(), "us-east-1", kExampleTime).signature,
        steps.signature, "%s", r.headers[i].name.c_str());
  }
}

Test(sigv4, header_values_are_trimmed_and_inner_spaces_collapsed) {
  RequestToSign r = example_request("PUT", "/bucket/k");
  r.headers = {{"x-amz-meta-note", "  two   words\tand  more \t "}, {"content-type", "a/b"}};
  SignatureSteps steps = signature_steps(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert(steps.canonical_request.find("\nx-amz-meta-note:two words and more\n") !=
            std::string::npos);
  SignedRequest s = sign_v4(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert_eq(header(s, "x-amz-meta-note"), "two words and more");
  RequestToSign plain = r;
  plain.headers[0].value = "two words and more";
  cr_assert_eq(signature_steps(plain, example_credentials(), "us-east-1", kExampleTime).signature,
               steps.signature);
}

Test(sigv4, headers_the_signer_owns_are_not_taken_from_the_caller) {
  RequestToSign r = example_request("GET", "/test.txt");
  r.headers = {{"range", "bytes=0-9"},
               {"X-Amz-Date", "19990101T000000Z"},
               {"host", "evil.example"},
               {"Authorization", "forged"},
               {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
               {"x-amz-security-token", "stale"}};
  SignedRequest s = sign_v4(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert_eq(names_of(s), "range;x-amz-content-sha256;x-amz-date;authorization;");
  cr_assert_eq(header(s, "x-amz-content-sha256"), kEmpty);
  cr_assert(
      header(s, "authorization")
          .ends_with("Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
}

Test(sigv4, repeated_header_values_join_with_commas) {
  RequestToSign r = example_request("GET", "/k");
  r.headers = {{"x-amz-meta-a", "1"}, {"X-Amz-Meta-A", " 2 "}};
  SignatureSteps steps = signature_steps(r, example_credentials(), "us-east-1", kExampleTime);
  cr_assert(steps.canonical_request.find("\nx-amz-meta-a:1,2\n") != std::string::npos);
  cr_assert_eq(steps.signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-meta-a");
}

Test(sigv4, signing_key_cache_gives_identical_signatures) {
  RequestToSign r = example_request("GET", "/test.txt");
  r.headers = {{"range", "bytes=0-9"}};
  Credentials c = example_credentials();
  const std::string published = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
  for (int i = 0; i < 3; ++i) {
    cr_assert_eq(signature_steps(r, c, "us-east-1", kExampleTime).signature, published);
  }
  // A rotated secret under the same key id, another day, another region: no stale key.
  Credentials rotated = c;
  rotated.secret_access_key = "another/secret";
  std::string other = signature_steps(r, rotated, "us-east-1", kExampleTime).signature;
  cr_assert_neq(other, published);
  std::string next_day =
      signature_steps(r, c, "us-east-1", kExampleTime + 86400000000000).signature;
  std::string other_region = signature_steps(r, c, "eu-west-1", kExampleTime).signature;
  cr_assert_neq(next_day, published);
  cr_assert_neq(other_region, published);
  cr_assert_eq(signature_steps(r, c, "us-east-1", kExampleTime).signature, published);
  cr_assert_eq(signature_steps(r, rotated, "us-east-1", kExampleTime).signature, other);
  // Many keys at once (the cache is bounded) and several threads.
  std::vector<std::thread> threads;
  std::vector<std::string> results(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Credentials mine = c;
        mine.access_key_id = "AKID" + std::to_string((t * 200 + i) % 97);
        (void)signature_steps(r, mine, "us-east-1", kExampleTime);
        results[t] = signature_steps(r, c, "us-east-1", kExampleTime).signature;
        if (results[t] != published) return;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& result : results) cr_assert_eq(result, published);
}

Test(sigv4, uri_encode_keeps_only_unreserved_bytes) {
  for (int byte = 0; byte < 256; ++byte) {
    std::string text(1, static_cast<char>(byte));
    bool unreserved =
        std::isalnum(byte) || byte == '-' || byte == '.' || byte == '_' || byte == '~';
    char expected[4];
    std::snprintf(expected, sizeof expected, "%%%02X", byte);
    std::string want = unreserved ? text : expected;
    cr_assert_eq(uri_encode(text, false), want, "byte %d", byte);
    cr_assert_eq(uri_encode(text, true), byte == '/' ? "/" : want, "byte %d", byte);
  }
  cr_assert_eq(uri_encode("a b/c+d=é~", true), "a%20b/c%2Bd%3D%C3%A9~");
  cr_assert_eq(uri_encode("a b/c+d=é~", false), "a%20b%2Fc%2Bd%3D%C3%A9~");
}

Test(sigv4, sha256_and_dates) {
  cr_assert_eq(sha256_hex(std::string_view()), kEmpty);
  const uint8_t abc[] = {'a', 'b', 'c'};
  cr_assert_eq(sha256_hex(std::span<const uint8_t>(abc)),
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  cr_assert_eq(amz_date(kExampleTime), "20130524T000000Z");
  cr_assert_eq(amz_date(int64_t{1796126400} * 1000000000 + 999999999), "20261201T120000Z");
  cr_assert_eq(amz_date(int64_t{951782400} * 1000000000), "20000229T000000Z");
  // The scope's day is the request's day in UTC.
  RequestToSign r = example_request("GET", "/");
  SignatureSteps steps =
      signature_steps(r, example_credentials(), "eu-west-1", kExampleTime - 1000000000);
  cr_assert(steps.string_to_sign.find("\n20130523T235959Z\n20130523/eu-west-1/s3/aws4_request\n") !=
            std::string::npos);
}
