// The credential sources that ask over HTTP: STS for a web identity, the
// container endpoint, EC2's IMDSv2. No message names a token, a key or a
// URL path (the container's relative URI is a capability): hosts only.
#include <string>

#include "base/clock.h"
#include "s3/credential_sources.h"

namespace iafs::s3 {
namespace {

constexpr std::size_t kMaxTokenFileBytes = std::size_t{64} << 10;
constexpr int kStsTimeoutMs = 5000;
constexpr int kContainerTimeoutMs = 2000;
constexpr int kImdsTimeoutMs = 1000;
constexpr std::string_view kContainerHost = "http://169.254.170.2";
constexpr std::string_view kImdsHost = "http://169.254.169.254";

std::string trimmed(std::string_view text) {
  std::size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  return std::string(text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1));
}

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

bool plain_header_value(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return !text.empty();
}

// The "user@host:port" between "://" and the path; empty when `url` has no "://".
std::string_view authority_of(std::string_view url) {
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::size_t start = scheme_end + 3;
  std::size_t end = url.find_first_of("/?#", start);
  return url.substr(start, end == std::string_view::npos ? end : end - start);
}

// scheme://host[:port] of `url`, without user info: what a message may name.
std::string origin_of(std::string_view url) {
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "(not a URL)";
  std::string_view authority = authority_of(url);
  std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority = authority.substr(at + 1);
  return std::string(url.substr(0, scheme_end + 3)) + std::string(authority);
}

// A token file's content, trimmed. `variable` names the setting in errors.
Result<std::string> read_token_file(const std::string& path, const std::string& variable) {
  Result<std::optional<SmallFile>> file = read_small_file(path, kMaxTokenFileBytes);
  if (!file.ok()) return make_error(file.error().code, variable + ": " + file.error().message);
  if (!*file) return make_error(ErrorCode::kInvalid, variable + ": " + path + " does not exist");
  std::string token = trimmed((*file)->text);
  if (!plain_header_value(token)) {
    return make_error(ErrorCode::kInvalid, variable + ": " + path + " holds no token on one line");
  }
  return token;
}

std::string sts_endpoint(const Environment& env, const std::string& profile) {
  for (const char* name : {"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"}) {
    if (auto url = env_value(env, name)) return without_trailing_slash(trimmed(*url));
  }
  std::string region = resolve_region(env, profile);
  std::string domain = region.rfind("cn-", 0) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
  return "https://sts." + region + "." + domain;
}

// AWS_CONTAINER_CREDENTIALS_FULL_URI may be https anywhere, or http to this
// machine or the ECS/EKS agents only (as the AWS SDKs allow).
Status check_full_uri(std::string_view url) {
  if (!plain_header_value(url) || (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)) {
    return make_error(ErrorCode::kInvalid, "AWS_CONTAINER_CREDENTIALS_FULL_URI is not http(s)");
  }
  std::string_view authority = authority_of(url);
  if (authority.find('@') != std::string_view::npos) {
    return make_error(ErrorCode::kInvalid, "AWS_CONTAINER_CREDENTIALS_FULL_URI holds user info");
  }
  if (url.rfind("https://", 0) == 0) return Status::Ok();
  std::string host(authority);
  if (host.empty() || host[0] != '[')
    host = host.substr(0, host.find(':'));
  else
    host = host.substr(0, host.find(']') + 1);
  bool loopback_v4 =
      host.rfind("127.", 0) == 0 && host.find_first_not_of("0123456789.") == std::string::npos;
  if (loopback_v4 || host == "localhost" || host == "[::1]" || host == "169.254.170.2" ||
      host == "169.254.170.23" || host == "[fd00:ec2::23]") {
    return Status::Ok();
  }
  return make_error(ErrorCode::kInvalid,
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI " + origin_of(url) +
                        ": plain http only to a loopback address or the ECS/EKS agent");
}

Error no_answer(const std::string& who, const Error& error) {
  return make_error(ErrorCode::kIo, who + " did not answer: " + error.message);
}

Error answered(const std::string& who, long status) {
  return make_error(status == 401 || status == 403 ? ErrorCode::kPermission : ErrorCode::kIo,
                    who + " answered HTTP " + std::to_string(status));
}

bool role_name_ok(std::string_view role) {
  if (role.empty() || role.size() > 128) return false;
  for (char c : role) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              std::string_view("+=,.@_-").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<Attempt> from_web_identity(const Environment& env, const std::string& profile,
                                  const MetadataFetch& fetch) {
  std::optional<std::string> token_file = env_value(env, "AWS_WEB_IDENTITY_TOKEN_FILE");
  if (!token_file) return Attempt{std::nullopt, "AWS_WEB_IDENTITY_TOKEN_FILE not set"};
  std::optional<std::string> role = env_value(env, "AWS_ROLE_ARN");
  if (!role) {
    return make_error(ErrorCode::kInvalid,
                      "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set without AWS_ROLE_ARN");
  }
  Result<std::string> token = read_token_file(*token_file, "AWS_WEB_IDENTITY_TOKEN_FILE");
  if (!token.ok()) return make_error(token.error().code, "web identity: " + token.error().message);
  std::string session =
      env_value(env, "AWS_ROLE_SESSION_NAME")
          .value_or("imageattachfs-" + std::to_string(now_ns() / kNanosPerSecond));
  MetadataRequest request;
  request.method = "POST";
  std::string endpoint = sts_endpoint(env, profile);
  request.url = endpoint + "/";
  request.headers.push_back({"content-type", "application/x-www-form-urlencoded"});
  request.body = "Action=AssumeRoleWithWebIdentity&RoleArn=" + uri_encode(*role, false) +
                 "&RoleSessionName=" + uri_encode(session, false) +
                 "&WebIdentityToken=" + uri_encode(*token, false) + "&Version=2011-06-15";
  request.timeout_ms = kStsTimeoutMs;
  const std::string who = "web identity: STS at " + origin_of(endpoint);
  Result<MetadataReply> reply = fetch(request);
  if (!reply.ok()) return no_answer(who, reply.error());
  if (reply->status != 200) {
    Error error = answered(who, reply->status);
    if (auto code = sts_error_code(reply->body)) error.message += " " + *code;
    return error;
  }
  Result<Credentials> credentials = parse_sts_reply(reply->body);
  if (!credentials.ok())
    return make_error(credentials.error().code, who + ": " + credentials.error().message);
  credentials->source = "web identity " + *role;
  return Attempt{std::move(*credentials), {}};
}

Result<Attempt> from_container(const Environment& env, const MetadataFetch& fetch) {
  std::optional<std::string> relative = env_value(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  std::optional<std::string> full = env_value(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!relative && !full) {
    return Attempt{std::nullopt, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set"};
  }
  MetadataRequest request;
  request.method = "GET";
  request.timeout_ms = kContainerTimeoutMs;
  if (relative) {
    if (relative->empty() || (*relative)[0] != '/' || !plain_header_value(*relative)) {
      return make_error(ErrorCode::kInvalid,
                        "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI does not start with /");
    }
    request.url = std::string(kContainerHost) + *relative;
  } else {
    if (Status checked = check_full_uri(*full); !checked.ok()) {
      return make_error(checked.error().code, "container: " + checked.error().message);
    }
    request.url = *full;
  }
  std::optional<std::string> authorization;
  if (auto file = env_value(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    Result<std::string> token = read_token_file(*file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    if (!token.ok()) return make_error(token.error().code, "container: " + token.error().message);
    authorization = *token;
  } else if (auto token = env_value(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    if (!plain_header_value(*token)) {
      return make_error(ErrorCode::kInvalid,
                        "container: AWS_CONTAINER_AUTHORIZATION_TOKEN holds a control character");
    }
    authorization = *token;
  }
  if (authorization) request.headers.push_back({"authorization", *authorization});
  const std::string who = "container endpoint " + origin_of(request.url);
  Result<MetadataReply> reply = fetch(request);
  if (!reply.ok()) return no_answer(who, reply.error());
  if (reply->status != 200) return answered(who, reply->status);
  Result<Credentials> credentials = parse_json_credentials(reply->body);
  if (!credentials.ok())
    return make_error(credentials.error().code, who + ": " + credentials.error().message);
  credentials->source = who;
  return Attempt{std::move(*credentials), {}};
}

Result<Attempt> from_imds(const Environment& env, const MetadataFetch& fetch) {
  if (auto disabled = env_value(env, "AWS_EC2_METADATA_DISABLED")) {
    std::string value = trimmed(*disabled);
    for (char& c : value) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (value == "true") return Attempt{std::nullopt, "disabled by AWS_EC2_METADATA_DISABLED"};
  }
  std::string base = without_trailing_slash(trimmed(
      env_value(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or(std::string(kImdsHost))));
  const std::string at = origin_of(base);
  const std::string who = "IMDSv2 at " + at;
  MetadataRequest token_request{"PUT",
                                base + "/latest/api/token",
                                {{"x-aws-ec2-metadata-token-ttl-seconds", "21600"}},
                                "",
                                kImdsTimeoutMs};
  Result<MetadataReply> token_reply = fetch(token_request);
  // No answer to the token request: not on EC2, the chain ends without credentials.
  if (!token_reply.ok()) {
    return Attempt{std::nullopt, at + " did not answer (" + token_reply.error().message + ")"};
  }
  if (token_reply->status != 200) {
    return Attempt{std::nullopt, at + " answered HTTP " + std::to_string(token_reply->status) +
                                     " to the token request"};
  }
  std::string token = trimmed(token_reply->body);
  if (!plain_header_value(token) || token.size() > 4096) {
    return make_error(ErrorCode::kInvalid, who + ": the token reply is not a token");
  }
  const std::string roles_url = base + "/latest/meta-data/iam/security-credentials/";
  MetadataRequest roles_request{
      "GET", roles_url, {{"x-aws-ec2-metadata-token", token}}, "", kImdsTimeoutMs};
  Result<MetadataReply> roles = fetch(roles_request);
  if (!roles.ok()) return no_answer(who, roles.error());
  if (roles->status == 404) return Attempt{std::nullopt, at + ": the instance has no IAM role"};
  if (roles->status != 200) return answered(who, roles->status);
  std::string_view listing = roles->body;
  std::string role = trimmed(listing.substr(0, listing.find('\n')));
  if (!role_name_ok(role))
    return make_error(ErrorCode::kInvalid, who + ": the role list is not a role name");
  MetadataRequest credentials_request{
      "GET", roles_url + role, {{"x-aws-ec2-metadata-token", token}}, "", kImdsTimeoutMs};
  Result<MetadataReply> reply = fetch(credentials_request);
  if (!reply.ok()) return no_answer(who, reply.error());
  if (reply->status != 200) return answered(who, reply->status);
  Result<Credentials> credentials = parse_json_credentials(reply->body);
  if (!credentials.ok())
    return make_error(credentials.error().code, who + ": " + credentials.error().message);
  credentials->source = "IMDSv2 role " + role;
  return Attempt{std::move(*credentials), {}};
}

}  // namespace iafs::s3
