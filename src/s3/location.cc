// make_location: -o s3=BUCKET[/PREFIX] with its endpoint and region.
#include <algorithm>

#include "s3/client.h"

namespace iafs::s3 {

namespace {

// S3's rules for new buckets: 3–63 characters of a-z 0-9 . -, starting and
// ending with a letter or digit, no "..", not an IPv4 address.
bool valid_bucket(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  if (name.find("..") != std::string_view::npos) return false;
  if (!std::all_of(name.begin(), name.end(),
                   [&](char c) { return alnum(c) || c == '.' || c == '-'; })) {
    return false;
  }
  bool address = std::all_of(name.begin(), name.end(),
                             [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  return !address;
}

// Segments of a prefix: none empty, ".", "..", or with a control character.
bool valid_prefix(std::string_view prefix) {
  if (prefix.size() > 512) return false;
  size_t at = 0;
  while (at <= prefix.size()) {
    size_t slash = std::min(prefix.find('/', at), prefix.size());
    std::string_view segment = prefix.substr(at, slash - at);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (std::any_of(segment.begin(), segment.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      return false;
    }
    at = slash + 1;
  }
  return true;
}

}  // namespace

Result<Location> make_location(std::string_view spec, std::string_view endpoint,
                               std::string_view region, bool path_style) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalid, "bad s3=" + std::string(spec) + ": " + why);
  };
  Location location;
  size_t slash = spec.find('/');
  location.bucket = std::string(spec.substr(0, slash));
  if (!valid_bucket(location.bucket)) {
    return bad("a bucket name is 3 to 63 of a-z, 0-9, '.' and '-'");
  }
  if (slash != std::string_view::npos) {
    std::string_view prefix = spec.substr(slash + 1);
    while (prefix.ends_with('/')) prefix.remove_suffix(1);
    if (!prefix.empty()) {
      if (!valid_prefix(prefix)) return bad("a prefix is segments without '.', '..' or controls");
      location.prefix = std::string(prefix) + "/";
    }
  }
  if (region.empty()) return bad("no region");
  if (!std::all_of(region.begin(), region.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      })) {
    return make_error(ErrorCode::kInvalid, "bad s3_region=" + std::string(region));
  }
  location.region = std::string(region);
  std::string url = endpoint.empty() ? "https://s3." + location.region + ".amazonaws.com"
                                     : std::string(endpoint);
  Result<Url> parsed = parse_url(url);
  if (!parsed) return parsed.error();
  location.endpoint = std::move(parsed).value();
  while (location.endpoint.path.ends_with('/')) location.endpoint.path.pop_back();
  location.path_style = path_style;
  if (!path_style && location.endpoint.scheme == "https" &&
      location.bucket.find('.') != std::string::npos) {
    return bad("a bucket name with '.' needs s3_path_style over https");
  }
  return location;
}

}  // namespace iafs::s3
