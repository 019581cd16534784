// HTTP/1.1 for the S3 backend: one attempt per call, no redirects, kept-alive
// connections shared by every thread (SCALEOUT.md §11). Retrying is the
// caller's (s3/client.h knows which answers are worth another try).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "imageattachfs/blob_store.h"
#include "imageattachfs/result.h"
#include "s3/sigv4.h"

namespace iafs::s3 {

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;     // scheme://authority/target
  // Sent as they are; a "host" header replaces the one of the URL (what was
  // signed is what is sent).
  std::vector<Header> headers;
  std::span<const uint8_t> body;  // PUT and POST
  // When set, the body instead: `source_size` bytes from `source_offset` of
  // `source`, read piece by piece (a large upload is never whole in memory).
  const BlobSource* source = nullptr;
  uint64_t source_offset = 0;
  uint64_t source_size = 0;
  // The whole exchange; 0: no bound but the low-speed one (below 64 KiB/s for
  // 10 s), for large transfers.
  int timeout_ms = 5000;
  // Names the request in errors; empty: "METHOD URL". (The container
  // credentials' URL path is itself a secret.)
  std::string label;
  // A reply body larger than this fails the request (kIo): a server cannot
  // make us hold more than we asked for.
  uint64_t max_body = 64ull << 20;
};

struct HttpResponse {
  long status = 0;
  std::vector<Header> headers;  // names lowercase, values trimmed
  std::string body;

  // The first header named `name` (lowercase), or nullptr.
  const std::string* header(std::string_view name) const;
};

// Sends requests. Thread-safe.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // One attempt. kIo when no HTTP answer came (refused, reset, timed out,
  // a reply over max_body): the message says which. Any status is an answer.
  virtual Result<HttpResponse> perform(const HttpRequest& request) = 0;
};

// HttpTransport over libcurl: a pool of easy handles sharing one connection
// cache and DNS cache; Nagle off, no 100-continue, connect timeout 2 s.
std::unique_ptr<HttpTransport> make_curl_transport();

// The parts of an http(s) URL the signer and the client need.
struct Url {
  std::string scheme;     // "http" or "https"
  std::string host;       // "127.0.0.1", "s3.eu-west-1.amazonaws.com"
  std::string authority;  // host, with ":port" when the URL names one
  std::string path;       // what follows the authority, without a query ("" or "/...")
};

// Parses "http(s)://host[:port][/path]"; kInvalid with one line for anything
// else (userinfo, a query, a fragment, another scheme, a bad port).
Result<Url> parse_url(std::string_view text);

}  // namespace iafs::s3
