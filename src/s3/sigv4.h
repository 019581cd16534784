// AWS Signature Version 4 for S3 (SCALEOUT.md §11): the canonical request,
// the string to sign and the Authorization header of one request, with the
// payload hash always signed (never UNSIGNED-PAYLOAD).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iafs::s3 {

struct Header {
  std::string name;  // lowercase
  std::string value;
};

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: none
  int64_t expires_ns = 0;     // 0: does not expire
  // For the log, never a secret: "environment", "/root/.aws/credentials [prod]", "IMDSv2 role web".
  std::string source;
};

struct RequestToSign {
  std::string method;  // "PUT"
  // The Host header libcurl will send: "127.0.0.1:7480", "bucket.s3.eu-west-1.amazonaws.com".
  std::string host;
  // Decoded: "/bucket/log/00000000000000000001"; each segment is percent-encoded
  // once (the S3 rule, not the double encoding of other services). Empty: "/".
  std::string path;
  // Decoded names and values, in any order; "uploads" is {"uploads", ""}.
  std::vector<std::pair<std::string, std::string>> query;
  // Sent and signed besides host and x-amz-*: if-none-match, range, content-type,
  // content-md5, x-amz-meta-*. Names in any case; the signer owns host, authorization,
  // x-amz-date, x-amz-content-sha256 and x-amz-security-token and drops those given here.
  // REQUIRES: values hold no CR, LF or other control character (check what users give).
  std::vector<Header> headers;
  // Lowercase hex SHA-256 of the body, always given; empty body: e3b0c442...b855.
  std::string payload_sha256_hex;
};

struct SignedRequest {
  // The request line's target: the encoded path, then "?" and the canonical
  // query when there is one.
  std::string target;
  // Every header to send except Host (libcurl sends it from the URL: it must
  // equal RequestToSign::host): the request's, then x-amz-content-sha256,
  // x-amz-date, x-amz-security-token (with a token), authorization.
  std::vector<Header> headers;
};

// The intermediate texts of one signature, as AWS's examples print them.
struct SignatureSteps {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;range;x-amz-content-sha256;x-amz-date"
  std::string signature;       // 64 lowercase hex digits
  std::string authorization;   // the Authorization header's value
};

// Signs with AWS Signature Version 4 for service "s3" (scope
// <yyyymmdd>/<region>/s3/aws4_request) at `now_ns` (UTC ns since the epoch).
// Thread-safe; signing keys are cached per day, region and key.
SignedRequest sign_v4(const RequestToSign& request, const Credentials& credentials,
                      std::string_view region, int64_t now_ns);

// What sign_v4 computes, step by step.
SignatureSteps signature_steps(const RequestToSign& request, const Credentials& credentials,
                               std::string_view region, int64_t now_ns);

// HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request".
std::array<uint8_t, 32> derive_signing_key(std::string_view secret, std::string_view yyyymmdd,
                                           std::string_view region, std::string_view service);

// Lowercase hex of the SHA-256 of `bytes`.
std::string sha256_hex(std::span<const uint8_t> bytes);
std::string sha256_hex(std::string_view text);

// RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) kept, every other byte
// as %XX (uppercase hex); '/' kept when `keep_slash` (paths).
std::string uri_encode(std::string_view text, bool keep_slash);

// "20130524T000000Z" for `now_ns`.
std::string amz_date(int64_t now_ns);

}  // namespace iafs::s3
