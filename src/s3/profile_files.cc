// The shared credentials and config files (~/.aws/credentials, ~/.aws/config).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "base/unique_fd.h"
#include "log/log.h"
#include "s3/credential_sources.h"

namespace iafs::s3 {
namespace {

constexpr std::size_t kMaxProfileFileBytes = 1 << 20;

std::string_view trim(std::string_view text) {
  std::size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  std::size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The value without a trailing comment: '#' or ';' behind a space or tab
// (never inside a key or secret, which hold no spaces).
std::string_view without_comment(std::string_view value) {
  for (std::size_t i = 1; i < value.size(); ++i) {
    if ((value[i] == '#' || value[i] == ';') && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
      return trim(value.substr(0, i));
    }
  }
  return value;
}

// "[profile  prod]" and "[profile prod]" are one section.
std::string section_name(std::string_view inside) {
  std::string_view name = trim(inside);
  if (name.size() > 8 && name.substr(0, 7) == "profile" && (name[7] == ' ' || name[7] == '\t')) {
    return "profile " + std::string(trim(name.substr(8)));
  }
  return std::string(name);
}

const std::map<std::string, std::string>* find_section(const IniSections& sections,
                                                       const std::string& name) {
  auto it = sections.find(name);
  return it == sections.end() ? nullptr : &it->second;
}

// The profile's section: [NAME] in the credentials file; [profile NAME] in the
// config file, where the default profile may also be [default].
const std::map<std::string, std::string>* profile_section(const IniSections& sections,
                                                          const std::string& profile,
                                                          bool config_file) {
  if (!config_file) return find_section(sections, profile);
  if (const auto* section = find_section(sections, "profile " + profile)) return section;
  return profile == "default" ? find_section(sections, "default") : nullptr;
}

std::string value_of(const std::map<std::string, std::string>& section, const std::string& key) {
  auto it = section.find(key);
  return it == section.end() ? std::string() : it->second;
}

struct LoadedFile {
  std::string path;
  std::optional<SmallFile> file;
  IniSections sections;
};

Result<LoadedFile> load_file(const std::string& path) {
  LoadedFile loaded{path, std::nullopt, {}};
  Result<std::optional<SmallFile>> read = read_small_file(path, kMaxProfileFileBytes);
  if (!read.ok()) return read.error();
  loaded.file = std::move(*read);
  if (!loaded.file) return loaded;
  Result<IniSections> parsed = parse_ini(loaded.file->text, path);
  if (!parsed.ok()) return parsed.error();
  loaded.sections = std::move(*parsed);
  return loaded;
}

void warn_if_readable_by_others(const LoadedFile& loaded) {
  mode_t mode = loaded.file->mode;
  if ((mode & (S_IRGRP | S_IROTH)) == 0) return;
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
  log_warning("S3 credentials file " + loaded.path + " is readable by other users (mode " + octal +
              "): chmod 600 " + loaded.path);
}

// Credentials of `profile` in one file; an empty Attempt when it has none there.
Result<Attempt> from_file(const LoadedFile& loaded, const std::string& profile, bool config_file) {
  const auto* section = profile_section(loaded.sections, profile, config_file);
  if (section == nullptr) return Attempt{std::nullopt, loaded.path + " has no [" + profile + "]"};
  const std::string where = loaded.path + " [" + profile + "]";
  for (const char* unsupported :
       {"role_arn", "credential_process", "sso_start_url", "sso_session"}) {
    if (section->count(unsupported) != 0) {
      return make_error(ErrorCode::kNotSupported,
                        where + " uses " + unsupported +
                            ", which imageattachfs does not support: give the profile "
                            "aws_access_key_id and aws_secret_access_key, or use another source");
    }
  }
  Credentials credentials;
  credentials.access_key_id = value_of(*section, "aws_access_key_id");
  credentials.secret_access_key = value_of(*section, "aws_secret_access_key");
  credentials.session_token = value_of(*section, "aws_session_token");
  if (credentials.access_key_id.empty() && credentials.secret_access_key.empty()) {
    if (!credentials.session_token.empty()) {
      return make_error(ErrorCode::kInvalid, where + ": aws_session_token without a key pair");
    }
    return Attempt{std::nullopt, where + " has no aws_access_key_id"};
  }
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return make_error(ErrorCode::kInvalid,
                      where + ": " +
                          (credentials.access_key_id.empty()
                               ? "aws_secret_access_key without aws_access_key_id"
                               : "aws_access_key_id without aws_secret_access_key"));
  }
  credentials.source = where;
  if (Status checked = check_credentials(credentials, where); !checked.ok()) {
    return checked.error();
  }
  warn_if_readable_by_others(loaded);
  return Attempt{std::move(credentials), {}};
}

}  // namespace

Result<std::optional<SmallFile>> read_small_file(const std::string& path, std::size_t max_bytes) {
  // O_NONBLOCK: a FIFO in the path must not hang the daemon.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) {
    int saved = errno;
    if (saved == ENOENT || saved == ENOTDIR) return std::optional<SmallFile>();
    Error error = error_from_errno("cannot open " + path);
    if (saved == EACCES || saved == EPERM) error.code = ErrorCode::kPermission;
    return error;
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return error_from_errno("cannot stat " + path);
  if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::kInvalid, path + " is not a regular file");
  SmallFile file;
  file.mode = st.st_mode;
  char buffer[8192];
  for (;;) {
    ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return error_from_errno("cannot read " + path);
    if (n == 0) break;
    if (file.text.size() + static_cast<std::size_t>(n) > max_bytes) {
      return make_error(ErrorCode::kInvalid,
                        path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    file.text.append(buffer, static_cast<std::size_t>(n));
  }
  if (file.text.find('\0') != std::string::npos) {
    return make_error(ErrorCode::kInvalid, path + " is not a text file (it holds NUL bytes)");
  }
  return std::optional<SmallFile>(std::move(file));
}

Result<IniSections> parse_ini(std::string_view text, const std::string& path) {
  IniSections sections;
  std::map<std::string, std::string>* section = nullptr;
  constexpr std::size_t kNone = std::string_view::npos;
  std::size_t setting_indent = kNone;  // of the section's last setting
  std::size_t line_number = 0;
  while (!text.empty()) {
    std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view content = trim(line);
    if (content.empty() || content[0] == '#' || content[0] == ';') continue;
    auto bad_line = [&](const char* expected) {
      return make_error(ErrorCode::kInvalid,
                        path + " line " + std::to_string(line_number) + ": " + expected);
    };
    if (content[0] == '[') {
      std::size_t close = content.find(']');
      std::string_view rest =
          close == std::string_view::npos ? "" : trim(content.substr(close + 1));
      if (close == std::string_view::npos || (!rest.empty() && rest[0] != '#' && rest[0] != ';')) {
        return bad_line("expected [section]");
      }
      std::string name = section_name(content.substr(1, close - 1));
      if (name.empty()) return bad_line("empty section name");
      section = &sections[name];
      setting_indent = kNone;
      continue;
    }
    std::size_t indent = line.find_first_not_of(" \t");
    if (setting_indent != kNone && indent > setting_indent) continue;  // a sub-setting (s3 =)
    std::size_t equals = content.find('=');
    if (equals == std::string_view::npos) return bad_line("expected [section] or name = value");
    std::string key = lowercase(trim(content.substr(0, equals)));
    if (key.empty()) return bad_line("expected a name before '='");
    if (section == nullptr) return bad_line("a setting before any [section]");
    (*section)[key] = std::string(without_comment(trim(content.substr(equals + 1))));
    setting_indent = indent;
  }
  return sections;
}

std::string credentials_file_path(const Environment& env) {
  if (auto path = env_value(env, "AWS_SHARED_CREDENTIALS_FILE")) return *path;
  return env.home + "/.aws/credentials";
}

std::string config_file_path(const Environment& env) {
  if (auto path = env_value(env, "AWS_CONFIG_FILE")) return *path;
  return env.home + "/.aws/config";
}

Result<Attempt> from_shared_files(const Environment& env, const std::string& profile) {
  std::string why_not;
  const std::pair<std::string, bool> files[] = {{credentials_file_path(env), false},
                                                {config_file_path(env), true}};
  for (const auto& [path, config_file] : files) {
    Result<LoadedFile> loaded = load_file(path);
    if (!loaded.ok()) return loaded.error();
    if (!why_not.empty()) why_not += ", ";
    if (!loaded->file) {
      why_not += path + " absent";
      continue;
    }
    Result<Attempt> attempt = from_file(*loaded, profile, config_file);
    if (!attempt.ok() || attempt->credentials) return attempt;
    why_not += attempt->why_not;
  }
  return Attempt{std::nullopt, why_not};
}

Result<std::optional<std::string>> config_setting(const Environment& env,
                                                  const std::string& profile,
                                                  const std::string& key) {
  Result<LoadedFile> loaded = load_file(config_file_path(env));
  if (!loaded.ok()) return loaded.error();
  const auto* section = profile_section(loaded->sections, profile, true);
  if (section == nullptr || section->count(key) == 0) return std::optional<std::string>();
  return std::optional<std::string>(value_of(*section, key));
}

}  // namespace iafs::s3
