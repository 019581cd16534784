#include "s3/client.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "base/clock.h"
#include "base/numbers.h"
#include "s3/times.h"
#include "s3/xml.h"

namespace iafs::s3 {

namespace {

constexpr int64_t kFirstBackoffNs = 50'000'000;   // 50 ms
constexpr int64_t kMaxBackoffNs = 2'000'000'000;  // 2 s
const char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool retryable_status(long status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

// A random wait in [0, min(cap, first·2^k)]: full jitter.
int64_t backoff_ns(unsigned attempt) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  int64_t ceiling = kFirstBackoffNs << std::min(attempt, 8u);
  ceiling = std::min(ceiling, kMaxBackoffNs);
  return std::uniform_int_distribution<int64_t>(0, ceiling)(random);
}

uint64_t to_u64(const std::string* text) {
  if (text == nullptr) return 0;
  return parse_canonical_decimal(*text, UINT64_MAX).value_or(0);
}

// The total size of a ranged GET's object ("bytes 0-9/1234"), else Content-Length.
uint64_t object_size(const HttpResponse& response) {
  if (const std::string* range = response.header("content-range")) {
    size_t slash = range->rfind('/');
    if (slash != std::string::npos) {
      std::string total = range->substr(slash + 1);
      return to_u64(&total);
    }
  }
  return to_u64(response.header("content-length"));
}

// The first byte of a ranged GET's answer ("bytes 0-9/1234"), if it is one.
std::optional<uint64_t> range_start(const HttpResponse& response) {
  const std::string* range = response.header("content-range");
  // "bytes=" is not the standard's, but some servers send it.
  if (range == nullptr || !(range->starts_with("bytes ") || range->starts_with("bytes="))) {
    return std::nullopt;
  }
  size_t dash = range->find('-');
  if (dash == std::string::npos) return std::nullopt;
  return parse_canonical_decimal(range->substr(6, dash - 6), UINT64_MAX);
}

ObjectInfo object_info(const HttpResponse& response) {
  ObjectInfo info;
  info.size = object_size(response);
  info.first = range_start(response);
  if (const std::string* etag = response.header("etag")) info.etag = *etag;
  if (const std::string* modified = response.header("last-modified")) {
    info.last_modified_ns = parse_http_date_ns(*modified).value_or(0);
  }
  for (const Header& h : response.headers) {
    if (h.name.starts_with("x-amz-meta-")) {
      info.metadata.push_back(Header{h.name.substr(11), h.value});
    }
  }
  return info;
}

}  // namespace

Deadline Deadline::after_ms(int64_t ms) { return Deadline{iafs::monotonic_ns() + ms * 1'000'000}; }

S3Error parse_s3_error(std::string_view body) {
  return S3Error{xml_text(body, "Code").value_or(""), xml_text(body, "Message").value_or("")};
}

Client::Client(Location location, CredentialProvider& credentials, HttpTransport& http)
    : location_(std::move(location)), credentials_(credentials), http_(http) {}

int64_t Client::clock_skew_ns() const { return skew_ns_.load(); }

Result<HttpResponse> Client::attempt(const Call& call, const std::string& payload_sha256,
                                     Deadline deadline) {
  Result<Credentials> credentials = credentials_.get(now_ns());
  if (!credentials) return credentials.error();
  const Url& endpoint = location_.endpoint;
  RequestToSign request;
  request.method = call.method;
  std::string object = call.bucket_level ? "" : location_.prefix + call.key;
  if (location_.path_style) {
    request.host = endpoint.authority;
    request.path = endpoint.path + "/" + location_.bucket + (call.bucket_level ? "" : "/" + object);
  } else {
    request.host = location_.bucket + "." + endpoint.authority;
    request.path = endpoint.path + "/" + object;
  }
  request.query = call.query;
  request.headers = call.headers;
  request.payload_sha256_hex = payload_sha256;
  int64_t now = now_ns();
  SignedRequest sent = sign_v4(request, *credentials, location_.region, now);
  HttpRequest http;
  http.method = call.method;
  http.url = endpoint.scheme + "://" + request.host + sent.target;
  http.headers = std::move(sent.headers);
  http.headers.push_back(Header{"host", request.host});
  http.body = call.body;
  http.source = call.source;
  http.source_offset = call.source_offset;
  http.source_size = call.source_size;
  // 0 is no timeout but the low-speed bound: the deadline bounds it too.
  int64_t left_ms = std::max<int64_t>(1, (deadline.monotonic_ns - monotonic_ns()) / 1000000);
  http.timeout_ms = static_cast<int>(
      std::min<int64_t>(call.timeout_ms > 0 ? call.timeout_ms : INT32_MAX, left_ms));
  Result<HttpResponse> response = http_.perform(http);
  if (response) {
    if (const std::string* date = response->header("date")) {
      if (std::optional<int64_t> server = parse_http_date_ns(*date)) skew_ns_ = *server - now;
    }
  }
  return response;
}

Result<HttpResponse> Client::send(const Call& call, Deadline deadline) {
  bool refreshed = false;
  // Hashed once: a retry sends the same bytes.
  std::string payload_sha256 = call.source != nullptr ? call.source_sha256
                               : call.body.empty()    ? std::string(kEmptySha256)
                                                      : sha256_hex(call.body);
  for (unsigned attempt_number = 0;; ++attempt_number) {
    Result<HttpResponse> response = attempt(call, payload_sha256, deadline);
    if (response) {
      long status = response->status;
      if ((status == 400 || status == 403) && !refreshed &&
          parse_s3_error(response->body).code == "ExpiredToken") {
        credentials_.expire();
        refreshed = true;
        continue;
      }
      if (!retryable_status(status)) return response;
    } else if (response.error().code != ErrorCode::kIo) {
      return response;  // no credentials, a bad request: trying again changes nothing
    }
    int64_t wait = backoff_ns(attempt_number);
    if (monotonic_ns() + wait >= deadline.monotonic_ns) {
      if (!response) return response;
      S3Error error = parse_s3_error(response->body);
      return make_error(ErrorCode::kIo, call.method + " " + call.key + ": " +
                                            std::to_string(response->status) + " " + error.code +
                                            " (retried until the deadline)");
    }
    std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
  }
}

// The error of an answer the caller did not expect: its status and S3 code.
Error unexpected_answer(const std::string& what, const HttpResponse& response) {
  S3Error error = parse_s3_error(response.body);
  std::string text = what + ": " + std::to_string(response.status);
  if (!error.code.empty()) text += " " + error.code;
  if (!error.message.empty()) text += ": " + error.message;
  ErrorCode code = ErrorCode::kIo;
  if (response.status == 403) code = ErrorCode::kPermission;
  if (error.code == "NoSuchBucket") code = ErrorCode::kNotFound;
  if (error.code == "RequestTimeTooSkewed") text += " (this host's clock is off)";
  return make_error(code, text);
}

void Client::add_options(Call& call, const PutOptions& options) {
  if (options.if_none_match) call.headers.push_back(Header{"if-none-match", "*"});
  if (!options.content_type.empty()) {
    call.headers.push_back(Header{"content-type", options.content_type});
  }
  for (const Header& m : options.metadata) {
    call.headers.push_back(Header{"x-amz-meta-" + m.name, m.value});
  }
}

Result<PutResult> Client::put(std::string_view key, std::span<const uint8_t> body,
                              const PutOptions& options, Deadline deadline) {
  SpanSource source(body);
  return put_source(key, source, 0, body.size(), sha256_hex(body), options, deadline);
}

Result<PutResult> Client::put_source(std::string_view key, const BlobSource& source,
                                     uint64_t offset, uint64_t size, const std::string& sha256,
                                     const PutOptions& options, Deadline deadline) {
  Call call("PUT", std::string(key));
  call.source = &source;
  call.source_offset = offset;
  call.source_size = size;
  call.source_sha256 = sha256;
  add_options(call, options);
  call.timeout_ms = 0;  // a transfer: the low-speed bound
  Result<HttpResponse> response = send(call, deadline);
  if (!response) return response.error();
  if (response->status == 200) return PutResult::kCreated;
  if (options.if_none_match && (response->status == 412 || response->status == 409)) {
    return PutResult::kExists;
  }
  return unexpected_answer("PUT " + std::string(key), response.value());
}

Result<std::optional<Object>> Client::get(std::string_view key, std::optional<ByteRange> range,
                                          Deadline deadline) {
  Call call("GET", std::string(key));
  if (range) {
    call.headers.push_back(Header{"range", "bytes=" + std::to_string(range->offset) + "-" +
                                               std::to_string(range->offset + range->length - 1)});
  }
  call.timeout_ms = 0;
  Result<HttpResponse> response = send(call, deadline);
  if (!response) return response.error();
  if (response->status == 404 && parse_s3_error(response->body).code != "NoSuchBucket") {
    return std::optional<Object>();
  }
  if (range && response->status == 416) {  // the range starts past the end
    return std::optional<Object>(Object{object_info(response.value()), ""});
  }
  if (response->status != 200 && response->status != 206) {
    return unexpected_answer("GET " + std::string(key), response.value());
  }
  Object object{object_info(response.value()), std::move(response->body)};
  return std::optional<Object>(std::move(object));
}

Result<std::optional<ObjectInfo>> Client::head(std::string_view key, Deadline deadline) {
  Result<HttpResponse> response = send(Call("HEAD", std::string(key)), deadline);
  if (!response) return response.error();
  if (response->status == 404) return std::optional<ObjectInfo>();
  if (response->status != 200)
    return unexpected_answer("HEAD " + std::string(key), response.value());
  return std::optional<ObjectInfo>(object_info(response.value()));
}

Status Client::remove(std::string_view key, Deadline deadline) {
  Result<HttpResponse> response = send(Call("DELETE", std::string(key)), deadline);
  if (!response) return response.error();
  if (response->status == 204 || response->status == 200 || response->status == 404) {
    return Status{};
  }
  return unexpected_answer("DELETE " + std::string(key), response.value());
}

Result<ListPage> Client::list(const ListQuery& query, Deadline deadline) {
  Call call = Call::bucket("GET");
  call.query.emplace_back("list-type", "2");
  call.query.emplace_back("prefix", location_.prefix + query.prefix);
  call.query.emplace_back("max-keys", std::to_string(std::clamp(query.max_keys, 1u, 1000u)));
  if (!query.start_after.empty()) {
    call.query.emplace_back("start-after", location_.prefix + query.start_after);
  }
  if (!query.continuation_token.empty()) {
    call.query.emplace_back("continuation-token", query.continuation_token);
  }
  if (!query.delimiter.empty()) call.query.emplace_back("delimiter", query.delimiter);
  Result<HttpResponse> response = send(call, deadline);
  if (!response) return response.error();
  if (response->status != 200) return unexpected_answer("LIST " + query.prefix, response.value());
  // A listing decides nothing alone, but a page misread must not look whole.
  auto malformed = [&](const std::string& why) {
    return make_error(ErrorCode::kIo, "LIST " + query.prefix + ": malformed reply (" + why + ")");
  };
  const std::string& body = response->body;
  if (xml_elements(body, "ListBucketResult").empty()) return malformed("no ListBucketResult");
  ListPage page;
  for (std::string_view contents : xml_elements(body, "Contents")) {
    std::optional<std::string> key = xml_text(contents, "Key");
    if (!key || !key->starts_with(location_.prefix)) return malformed("a key outside the prefix");
    ListedObject object;
    object.key = key->substr(location_.prefix.size());
    std::optional<std::string> size = xml_text(contents, "Size");
    if (!size) return malformed("no Size");
    object.size = to_u64(&size.value());
    object.etag = xml_text(contents, "ETag").value_or("");
    object.last_modified_ns =
        parse_iso8601_ns(xml_text(contents, "LastModified").value_or("")).value_or(0);
    page.objects.push_back(std::move(object));
  }
  for (std::string_view common : xml_elements(body, "CommonPrefixes")) {
    std::optional<std::string> prefix = xml_text(common, "Prefix");
    if (!prefix || !prefix->starts_with(location_.prefix)) return malformed("a prefix outside");
    page.prefixes.push_back(prefix->substr(location_.prefix.size()));
  }
  if (xml_text(body, "IsTruncated").value_or("false") == "true") {
    page.next_token = xml_text(body, "NextContinuationToken").value_or("");
    if (page.next_token.empty()) return malformed("truncated without a continuation token");
  }
  if (!std::is_sorted(page.objects.begin(), page.objects.end(),
                      [](const ListedObject& a, const ListedObject& b) { return a.key < b.key; })) {
    return malformed("keys out of order");
  }
  return page;
}

Result<std::string> Client::versioning(Deadline deadline) {
  Call call = Call::bucket("GET");
  call.query.emplace_back("versioning", "");
  Result<HttpResponse> response = send(call, deadline);
  if (!response) return response.error();
  if (response->status != 200) return unexpected_answer("GET ?versioning", response.value());
  return xml_text(response->body, "Status").value_or("");
}

}  // namespace iafs::s3
