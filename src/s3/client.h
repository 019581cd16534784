// The S3 operations the backend uses (SCALEOUT.md §2): PUT (create-if-absent
// with If-None-Match: *), GET (ranges), HEAD, DELETE, ListObjectsV2 and
// GetBucketVersioning, signed with SigV4, the payload hash always sent.
// Connection errors, timeouts, 408, 429 and 5xx are retried with backoff
// (50 ms·2^k, full jitter, cap 2 s) until the call's deadline; an
// ExpiredToken answer refreshes the credentials once. 404 is an answer; 412
// and 409 to a create-if-absent PUT mean "already there"; any other 4xx is an
// error naming its S3 code.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "imageattachfs/result.h"
#include "s3/credentials.h"
#include "s3/http.h"
#include "s3/sigv4.h"

namespace iafs::s3 {

// Where a store's objects live.
struct Location {
  Url endpoint;  // https://s3.<region>.amazonaws.com, or -o s3_endpoint=
  std::string bucket;
  std::string prefix;  // "" or "PREFIX/": every key is under it
  std::string region;
  bool path_style = false;  // ENDPOINT/BUCKET/KEY instead of BUCKET.HOST/KEY
};

// `spec` is -o s3=BUCKET[/PREFIX]; `endpoint` empty: AWS's for `region`.
// kInvalid with one line: a bucket name S3 refuses (3–63 of a-z 0-9 . -), a
// prefix with an empty, "." or ".." segment or a control character, a bad URL,
// or a dotted bucket without path style over https (its certificate cannot match).
Result<Location> make_location(std::string_view spec, std::string_view endpoint,
                               std::string_view region, bool path_style);

// A monotonic time by which a call gives up retrying.
struct Deadline {
  int64_t monotonic_ns = 0;
  static Deadline after_ms(int64_t ms);
};

struct ObjectInfo {
  uint64_t size = 0;              // the whole object's
  std::optional<uint64_t> first;  // a ranged answer's (206) first byte: Content-Range's
  std::string etag;
  int64_t last_modified_ns = 0;
  std::vector<Header> metadata;  // x-amz-meta-NAME as {NAME, value}
};

struct Object {
  ObjectInfo info;
  std::string bytes;
};

struct PutOptions {
  bool if_none_match = false;    // create only if absent
  std::vector<Header> metadata;  // sent as x-amz-meta-NAME (NAME lowercase)
  std::string content_type;      // empty: none sent
};

enum class PutResult { kCreated, kExists };

struct ListQuery {
  std::string prefix;              // under the location's prefix
  std::string start_after;         // a key under the location's prefix
  std::string continuation_token;  // a page's next_token
  std::string delimiter;
  unsigned max_keys = 1000;
};

struct ListedObject {
  std::string key;  // without the location's prefix
  uint64_t size = 0;
  std::string etag;
  int64_t last_modified_ns = 0;
};

struct ListPage {
  std::vector<ListedObject> objects;  // sorted by key
  std::vector<std::string> prefixes;  // common prefixes (with a delimiter)
  std::string next_token;             // empty: the last page
};

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;  // > 0
};

// Thread-safe; the transport and the credentials outlive it.
class Client {
 public:
  Client(Location location, CredentialProvider& credentials, HttpTransport& http);

  const Location& location() const { return location_; }

  // kCreated, or (with if_none_match) kExists when the key was there.
  Result<PutResult> put(std::string_view key, std::span<const uint8_t> body,
                        const PutOptions& options, Deadline deadline = Deadline::after_ms(30000));
  // put of `size` bytes of `source` from `offset`, read as they are sent;
  // `sha256_hex` is theirs, which the server checks (400 if they differ).
  Result<PutResult> put_source(std::string_view key, const BlobSource& source, uint64_t offset,
                               uint64_t size, const std::string& sha256_hex,
                               const PutOptions& options,
                               Deadline deadline = Deadline::after_ms(30000));

  // A multipart upload, for objects over 64 MiB. Never conditional: RGW 16.2
  // ignores If-None-Match on its completion. create gives the upload id,
  // upload_part the part's ETag (parts numbered from 1).
  Result<std::string> create_multipart(std::string_view key, const PutOptions& options,
                                       Deadline deadline);
  Result<std::string> upload_part(std::string_view key, const std::string& upload_id, unsigned part,
                                  std::span<const uint8_t> bytes, Deadline deadline);
  Status complete_multipart(std::string_view key, const std::string& upload_id,
                            const std::vector<std::string>& etags, Deadline deadline);
  Status abort_multipart(std::string_view key, const std::string& upload_id, Deadline deadline);
  // nullopt: no such key. A range past the end gives what there is.
  Result<std::optional<Object>> get(std::string_view key,
                                    std::optional<ByteRange> range = std::nullopt,
                                    Deadline deadline = Deadline::after_ms(30000));
  Result<std::optional<ObjectInfo>> head(std::string_view key,
                                         Deadline deadline = Deadline::after_ms(30000));
  // Absent keys are not an error.
  Status remove(std::string_view key, Deadline deadline = Deadline::after_ms(30000));
  Result<ListPage> list(const ListQuery& query, Deadline deadline = Deadline::after_ms(30000));
  // The bucket's versioning status: "" (never enabled), "Enabled" or "Suspended".
  Result<std::string> versioning(Deadline deadline = Deadline::after_ms(30000));

  // The server's clock minus ours, from the Date header of the last reply
  // (0 before any): SigV4 refuses clocks 15 min off.
  int64_t clock_skew_ns() const;

 private:
  // One request, retried by send().
  struct Call {
    Call(std::string m, std::string k) : method(std::move(m)), key(std::move(k)) {}
    static Call bucket(std::string m) {
      Call call(std::move(m), "");
      call.bucket_level = true;
      return call;
    }
    std::string method;
    std::string key;  // under the prefix; empty with `bucket_level`
    bool bucket_level = false;
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<Header> headers;
    std::span<const uint8_t> body;
    const BlobSource* source = nullptr;  // or this, with its offset, size and hash
    uint64_t source_offset = 0;
    uint64_t source_size = 0;
    std::string source_sha256;
    int timeout_ms = 5000;
  };
  static void add_options(Call& call, const PutOptions& options);
  Result<HttpResponse> send(const Call& call, Deadline deadline);
  // One attempt, given up at `deadline` whatever its own timeout.
  Result<HttpResponse> attempt(const Call& call, const std::string& payload_sha256,
                               Deadline deadline);

  Location location_;
  CredentialProvider& credentials_;
  HttpTransport& http_;
  std::atomic<int64_t> skew_ns_{0};
};

// The credential chain's HTTP (STS, the container endpoint, IMDSv2) over
// `http`, which outlives what it returns.
MetadataFetch metadata_fetch(HttpTransport& http);

// The S3 error code and message of an error reply's XML body ("" when none).
struct S3Error {
  std::string code;
  std::string message;
};
S3Error parse_s3_error(std::string_view body);

// The error of an answer the caller did not expect: "WHAT: STATUS CODE: message".
Error unexpected_answer(const std::string& what, const HttpResponse& response);

}  // namespace iafs::s3
