#include "s3/options.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>

namespace iafs::s3 {

namespace {

bool names_a_secret(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static constexpr std::array<std::string_view, 5> kWords = {"key", "secret", "token", "password",
                                                             "credential"};
  return std::any_of(kWords.begin(), kWords.end(),
                     [&](std::string_view word) { return lower.find(word) != std::string::npos; });
}

}  // namespace

Result<bool> apply_s3_option(std::string_view name, std::optional<std::string_view> value,
                             S3Options& options) {
  auto invalid = [](std::string text) { return make_error(ErrorCode::kInvalid, std::move(text)); };
  if (names_a_secret(name)) {
    return invalid("option " + std::string(name) +
                   " refused: no option takes a secret (every user can read argv and "
                   "/etc/fstab); credentials come from AWS_ACCESS_KEY_ID and "
                   "AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, or the instance's role");
  }
  std::string* text = nullptr;
  if (name == "s3") {
    text = &options.spec;
  } else if (name == "s3_endpoint") {
    text = &options.endpoint;
  } else if (name == "s3_region") {
    text = &options.region;
  } else if (name == "s3_profile") {
    text = &options.profile;
  } else if (name == "s3_poll" || name == "s3_commit_timeout") {
    bool poll = name == "s3_poll";
    double low = poll ? 0.1 : 1;
    double high = poll ? 10 : 600;
    std::string given(value.value_or(""));
    char* end = nullptr;
    double seconds = given.empty() ? -1 : std::strtod(given.c_str(), &end);
    if (given.empty() || end == nullptr || *end != '\0' || !(seconds >= low && seconds <= high)) {
      return invalid("bad " + std::string(name) + " '" + given + "': expected seconds from " +
                     (poll ? "0.1 to 10" : "1 to 600"));
    }
    (poll ? options.poll_ns : options.commit_timeout_ns) = static_cast<int64_t>(seconds * 1e9);
    return true;
  } else if (name == "s3_heartbeat" || name == "s3_gc_grace" || name == "s3_gc_interval") {
    // Whole seconds: heartbeats up to an hour, GC's times up to 30 days.
    long high = name == "s3_heartbeat" ? 3600 : 30L * 86400;
    std::string given(value.value_or(""));
    char* end = nullptr;
    long seconds = given.empty() ? -1 : std::strtol(given.c_str(), &end, 10);
    if (given.empty() || *end != '\0' || seconds < 1 || seconds > high) {
      return invalid("bad " + std::string(name) + " '" + given +
                     "': expected whole seconds from 1 to " + std::to_string(high));
    }
    int64_t ns = int64_t{seconds} * 1'000'000'000;
    (name == "s3_heartbeat"  ? options.heartbeat_ns
     : name == "s3_gc_grace" ? options.gc_grace_ns
                             : options.gc_interval_ns) = ns;
    return true;
  } else if (name == "s3_snapshot_entries") {
    std::string given(value.value_or(""));
    char* end = nullptr;
    unsigned long long n = given.empty() ? 0 : std::strtoull(given.c_str(), &end, 10);
    if (given.empty() || *end != '\0' || n < 1 || n > 1'000'000'000) {
      return invalid("bad s3_snapshot_entries '" + given + "': expected 1 to 1000000000");
    }
    options.snapshot_entries = n;
    return true;
  } else if (name == "s3_path_style" || name == "s3_maintain") {
    if (value) return invalid("option " + std::string(name) + " takes no value");
    (name == "s3_maintain" ? options.maintain : options.path_style) = true;
    return true;
  } else {
    return false;
  }
  if (!value || value->empty()) return invalid("option " + std::string(name) + " needs a value");
  *text = std::string(*value);
  return true;
}

Status apply_s3_option_list(std::string_view list, S3Options& options) {
  size_t at = 0;
  while (at <= list.size()) {
    size_t comma = std::min(list.find(',', at), list.size());
    std::string_view item = list.substr(at, comma - at);
    at = comma + 1;
    if (item.empty()) continue;
    size_t equals = item.find('=');
    std::optional<std::string_view> value;
    if (equals != std::string_view::npos) value = item.substr(equals + 1);
    Result<bool> taken = apply_s3_option(item.substr(0, equals), value, options);
    if (!taken) return taken.error();
    if (!*taken) {
      return make_error(ErrorCode::kInvalid, "unknown option " + std::string(item));
    }
  }
  return Status::Ok();
}

Result<Location> resolve_location(const S3Options& options, const Environment& env) {
  std::string endpoint = options.endpoint;
  if (endpoint.empty()) endpoint = resolve_endpoint(env).value_or("");
  std::string region = options.region;
  if (region.empty()) region = resolve_region(env, options.profile);
  return make_location(options.spec, endpoint, region, options.path_style);
}

}  // namespace iafs::s3
