// Where the S3 client's credentials, region and endpoint come from: the
// standard AWS chain (SCALEOUT.md §11). No mount option ever carries a secret,
// and no secret or token ever reaches the log or an Error message.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imageattachfs/result.h"
#include "s3/sigv4.h"

namespace iafs::s3 {

// What the chain reads, injectable for tests.
struct Environment {
  std::function<std::optional<std::string>(const std::string& name)> getenv;  // default: ::getenv
  std::string home;                                                           // for ~/.aws
  // The process's: ::getenv, and $HOME or else the user's home from the password database.
  static Environment process();
};

struct MetadataRequest {
  std::string method;
  std::string url;
  std::vector<Header> headers;
  std::string body;
  int timeout_ms = 1000;
};
struct MetadataReply {
  long status = 0;
  std::string body;
};
// The HTTP the chain needs for STS, the container endpoint and IMDSv2 (the
// lead wires it to libcurl). An Error: no answer (refused, timed out).
using MetadataFetch = std::function<Result<MetadataReply>(const MetadataRequest&)>;

// The standard AWS chain, first match wins:
//  1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [, AWS_SESSION_TOKEN];
//  2. shared files: AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials, [NAME]),
//     then AWS_CONFIG_FILE (default ~/.aws/config, [profile NAME], [default]); a file
//     readable by group or others logs a warning;
//  3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME]
//     -> STS AssumeRoleWithWebIdentity, unsigned (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL
//     or https://sts.REGION.amazonaws.com);
//  4. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on http://169.254.170.2, or
//     AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http to a loopback or EKS/ECS
//     address), with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN;
//  5. EC2 IMDSv2 (unless AWS_EC2_METADATA_DISABLED=true; AWS_EC2_METADATA_SERVICE_ENDPOINT
//     overrides http://169.254.169.254): PUT token, GET role, GET credentials, 1 s each.
// `profile` empty: AWS_PROFILE, then "default".
// Errors: kNotFound when no source has credentials, naming every source tried and
// why each had none. A source that is configured but broken stops the chain, as
// the AWS SDKs do, rather than let a later source lend another identity: kInvalid
// for a half-set pair, a malformed file or reply; kNotSupported for a profile that
// only names a way we lack (credential_process, role_arn, sso); kIo for a
// configured web identity or container endpoint that does not answer. IMDSv2
// is only a probe: no answer there means "not on EC2" (kNotFound).
Result<Credentials> load_credentials(const Environment& env, std::string_view profile,
                                     const MetadataFetch& fetch);

// Thread-safe holder of the chain's credentials: loads once, refreshes
// temporary credentials 5 min before they expire, and again after expire().
// While one thread refreshes, others get the old credentials as long as they
// are valid; a failed refresh keeps valid old ones (one warning) and is
// retried 10 s later at the earliest.
class CredentialProvider {
 public:
  CredentialProvider(Environment env, std::string profile, MetadataFetch fetch);

  // Credentials valid at `now_ns` (UTC ns since the epoch).
  Result<Credentials> get(int64_t now_ns);
  // The server refused the current credentials (ExpiredToken): the next get() reloads.
  void expire();
  // As expire(), unless the current credentials are no longer `rejected` (another
  // thread already refreshed them), so that N threads refused at once reload once.
  void expire(const Credentials& rejected);

 private:
  bool usable(int64_t now_ns) const;        // REQUIRES: mutex_ held
  bool wants_reload(int64_t now_ns) const;  // REQUIRES: mutex_ held

  Environment env_;
  std::string profile_;
  MetadataFetch fetch_;
  std::mutex mutex_;
  std::condition_variable reloaded_;
  std::optional<Credentials> current_;
  std::optional<Error> last_error_;  // of the last load, when it failed
  uint64_t loads_ = 0;               // loads finished
  bool expired_ = false;
  bool loading_ = false;
  int64_t next_attempt_ns_ = 0;  // no refresh of usable credentials before
};

// Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in the config
// file, "us-east-1". `profile` empty: AWS_PROFILE, then "default".
std::string resolve_region(const Environment& env, std::string_view profile);

// Endpoint: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL; nullopt: none set.
std::optional<std::string> resolve_endpoint(const Environment& env);

}  // namespace iafs::s3
