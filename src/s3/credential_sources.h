// The sources of the credential chain (credentials.h) one by one, and the
// small strict readers of what they answer. Internal to src/s3 and its tests.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "imageattachfs/result.h"
#include "s3/credentials.h"
#include "s3/times.h"

namespace iafs::s3 {

// One source's answer: credentials, or why it has none (for the kNotFound
// message). An Error instead stops the chain (credentials.h).
struct Attempt {
  std::optional<Credentials> credentials;
  std::string why_not;
};

// `name`'s value, nullopt when unset or empty.
std::optional<std::string> env_value(const Environment& env, const std::string& name);
// `profile`, else AWS_PROFILE, else "default".
std::string chosen_profile(const Environment& env, std::string_view profile);

Result<Attempt> from_environment(const Environment& env);
Result<Attempt> from_shared_files(const Environment& env, const std::string& profile);
Result<Attempt> from_web_identity(const Environment& env, const std::string& profile,
                                  const MetadataFetch& fetch);
Result<Attempt> from_container(const Environment& env, const MetadataFetch& fetch);
Result<Attempt> from_imds(const Environment& env, const MetadataFetch& fetch);

// ---- Files

struct SmallFile {
  std::string text;
  mode_t mode = 0;
};
// A regular file of at most `max_bytes` bytes without NUL bytes; nullopt when
// it does not exist. Errors name `path`, never the content.
Result<std::optional<SmallFile>> read_small_file(const std::string& path, std::size_t max_bytes);

// section -> key (lowercase) -> value.
using IniSections = std::map<std::string, std::map<std::string, std::string>>;
// The AWS shared-file format: [section] lines, "key = value" lines, # and ;
// comments (also after a value, behind a space), CRLF; a line indented deeper
// than the setting above it continues that setting (sub-settings of "s3 =",
// skipped). Errors name `path` and the line.
Result<IniSections> parse_ini(std::string_view text, const std::string& path);

std::string credentials_file_path(const Environment& env);
std::string config_file_path(const Environment& env);

// `key` of `profile` in the config file ([profile NAME], or [default]).
Result<std::optional<std::string>> config_setting(const Environment& env,
                                                  const std::string& profile,
                                                  const std::string& key);

// ---- Replies

// Credentials from STS's AssumeRoleWithWebIdentity XML reply
// (Credentials/AccessKeyId, SecretAccessKey, SessionToken, Expiration).
Result<Credentials> parse_sts_reply(std::string_view xml);
// The <Code> of an STS error reply, when it is a plain word.
std::optional<std::string> sts_error_code(std::string_view xml);
// Credentials from the container endpoint's or IMDS's JSON (AccessKeyId,
// SecretAccessKey, Token, Expiration; IMDS's Code must be "Success").
Result<Credentials> parse_json_credentials(std::string_view json);
// The top-level string members of a JSON object; other members skipped.
Result<std::map<std::string, std::string>> json_string_members(std::string_view json);
// Checks each non-empty part can go in a header: kInvalid naming `where` and the part.
Status check_credentials(const Credentials& credentials, const std::string& where);

}  // namespace iafs::s3
