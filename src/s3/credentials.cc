// The credential chain in order, the region and the endpoint.
#include "s3/credentials.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "log/log.h"
#include "s3/credential_sources.h"

namespace iafs::s3 {
namespace {

std::string home_directory() {
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return home;
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::string buffer(size > 0 ? static_cast<std::size_t>(size) : 16384, '\0');
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_dir != nullptr) {
    return found->pw_dir;
  }
  return {};
}

std::string trimmed(std::string_view text) {
  std::size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  std::size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

}  // namespace

Environment Environment::process() {
  Environment env;
  env.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  env.home = home_directory();
  return env;
}

std::optional<std::string> env_value(const Environment& env, const std::string& name) {
  if (!env.getenv) return std::nullopt;
  std::optional<std::string> value = env.getenv(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

std::string chosen_profile(const Environment& env, std::string_view profile) {
  if (!profile.empty()) return std::string(profile);
  if (auto named = env_value(env, "AWS_PROFILE")) return trimmed(*named);
  return "default";
}

Result<Attempt> from_environment(const Environment& env) {
  std::optional<std::string> id = env_value(env, "AWS_ACCESS_KEY_ID");
  std::optional<std::string> secret = env_value(env, "AWS_SECRET_ACCESS_KEY");
  if (!id && !secret) return Attempt{std::nullopt, "AWS_ACCESS_KEY_ID not set"};
  if (!id || !secret) {
    return make_error(ErrorCode::kInvalid,
                      std::string("environment: ") +
                          (id ? "AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY"
                              : "AWS_SECRET_ACCESS_KEY is set without AWS_ACCESS_KEY_ID"));
  }
  Credentials credentials;
  credentials.access_key_id = *id;
  credentials.secret_access_key = *secret;
  credentials.session_token = env_value(env, "AWS_SESSION_TOKEN").value_or("");
  credentials.source = "environment";
  if (Status checked = check_credentials(credentials, "environment"); !checked.ok()) {
    return checked.error();
  }
  return Attempt{std::move(credentials), {}};
}

Result<Credentials> load_credentials(const Environment& env, std::string_view profile,
                                     const MetadataFetch& fetch) {
  const std::string name = chosen_profile(env, profile);
  struct Source {
    const char* label;
    std::function<Result<Attempt>()> run;
  };
  const Source sources[] = {
      {"environment", [&] { return from_environment(env); }},
      {"shared files", [&] { return from_shared_files(env, name); }},
      {"web identity", [&] { return from_web_identity(env, name, fetch); }},
      {"container", [&] { return from_container(env, fetch); }},
      {"IMDSv2", [&] { return from_imds(env, fetch); }},
  };
  std::string tried;
  for (const Source& source : sources) {
    Result<Attempt> attempt = source.run();
    if (!attempt.ok()) return attempt.error();
    if (attempt->credentials) return std::move(*attempt->credentials);
    log_debug(std::string("S3 credentials: ") + source.label + ": " + attempt->why_not);
    if (!tried.empty()) tried += "; ";
    tried += std::string(source.label) + ": " + attempt->why_not;
  }
  return make_error(ErrorCode::kNotFound, "no S3 credentials (profile " + name + ") in " + tried);
}

std::string resolve_region(const Environment& env, std::string_view profile) {
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (auto region = env_value(env, name)) {
      std::string value = trimmed(*region);
      if (!value.empty()) return value;
    }
  }
  Result<std::optional<std::string>> setting =
      config_setting(env, chosen_profile(env, profile), "region");
  if (!setting.ok()) {
    log_warning("S3 region: " + setting.error().message + "; using us-east-1");
  } else if (*setting && !(*setting)->empty()) {
    return **setting;
  }
  return "us-east-1";
}

std::optional<std::string> resolve_endpoint(const Environment& env) {
  for (const char* name : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    if (auto url = env_value(env, name)) {
      std::string value = trimmed(*url);
      if (!value.empty()) return value;
    }
  }
  return std::nullopt;
}

}  // namespace iafs::s3
