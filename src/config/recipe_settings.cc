#include "config/recipe_settings.h"

#include <algorithm>
#include <optional>
#include <string>

#include "base/numbers.h"
#include "config/setting_text.h"
#include "imageattachfs/recipe.h"

namespace iafs {
namespace {

using namespace setting_text;

constexpr std::string_view kQualityPrefix = "quality.";
constexpr std::string_view kPresetPrefix = "preset.";

Result<std::vector<ImageFormat>> parse_thumbnail_formats(std::string_view key,
                                                         std::string_view value) {
  std::vector<ImageFormat> formats;
  std::vector<std::string_view> items = split_list(value);
  if (items.empty()) return bad_value(key, value, "expected a list of extensions");
  for (std::string_view item : items) {
    std::optional<ImageFormat> format = format_from_extension(item);
    if (!format || !is_thumbnail_format(*format)) {
      return bad_value(key, value,
                       "unknown format " + quoted(item) + ": expected " + thumbnail_extension_list());
    }
    if (std::find(formats.begin(), formats.end(), *format) == formats.end()) {
      formats.push_back(*format);
    }
  }
  return formats;
}

// "any", "none" or a list of WxH.
Result<BoxPolicy> parse_boxes(std::string_view key, std::string_view value) {
  BoxPolicy policy;
  if (value == "any") return policy;
  if (value == "none") {
    policy.kind = BoxPolicy::Kind::kNone;
    return policy;
  }
  policy.kind = BoxPolicy::Kind::kList;
  std::vector<std::string_view> items = split_list(value);
  if (items.empty()) return bad_value(key, value, "expected any, none or a list of WxH");
  for (std::string_view item : items) {
    std::optional<ThumbnailSpec> box = parse_recipe(item);
    if (!box || box->fit != ThumbFit::kBox) {
      return bad_value(key, value, "expected any, none or a list of WxH, not " + quoted(item));
    }
    policy.boxes.emplace_back(box->width, box->height);
  }
  std::sort(policy.boxes.begin(), policy.boxes.end());
  policy.boxes.erase(std::unique(policy.boxes.begin(), policy.boxes.end()), policy.boxes.end());
  return policy;
}

Result<int> parse_quality(std::string_view key, std::string_view value) {
  std::optional<uint64_t> quality = parse_number(value, 100, false);
  if (!quality || *quality == 0) return bad_value(key, value, "expected a number from 1 to 100");
  return static_cast<int>(*quality);
}

// A preset's name: [a-z][a-z0-9_]*, not a recipe itself, not "lqip".
bool is_preset_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
  if (name == "lqip" || parse_recipe(name)) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

Status apply_recipe_setting(AttachmentSchema& attachment, std::string_view key,
                            std::string_view value) {
  ThumbnailPolicy& policy = attachment.thumbnails;
  if (key == "thumbnail_formats") {
    auto formats = parse_thumbnail_formats(key, value);
    if (!formats) return formats.error();
    policy.formats = std::move(formats).value();
    return Status::Ok();
  }
  if (key == "thumbnail_boxes") {
    auto boxes = parse_boxes(key, value);
    if (!boxes) return boxes.error();
    policy.boxes = std::move(boxes).value();
    return Status::Ok();
  }
  if (key == "enlarge") {
    if (value == "clamp") policy.enlarge = Enlarge::kClamp;
    else if (value == "no") policy.enlarge = Enlarge::kNo;
    else return bad_value(key, value, "expected clamp or no");
    return Status::Ok();
  }
  if (key.starts_with(kQualityPrefix)) {
    std::optional<ImageFormat> format = format_from_extension(key.substr(kQualityPrefix.size()));
    if (!format || !is_thumbnail_format(*format)) {
      return make_error(ErrorCode::kInvalid, "unknown key " + quoted(key) + ": quality.<ext> takes " +
                                                 thumbnail_extension_list());
    }
    auto quality = parse_quality(key, value);
    if (!quality) return quality.error();
    for (const auto& [with, _] : policy.format_quality) {
      if (with == *format) return make_error(ErrorCode::kInvalid, "duplicate key " + quoted(key));
    }
    policy.format_quality.emplace_back(*format, *quality);
    return Status::Ok();
  }
  if (key.starts_with(kPresetPrefix)) {
    std::string_view name = key.substr(kPresetPrefix.size());
    if (!is_preset_name(name)) {
      return make_error(ErrorCode::kInvalid,
                        "bad preset name " + quoted(name) +
                            ": [a-z][a-z0-9_]*, neither a recipe nor lqip");
    }
    std::optional<ThumbnailSpec> recipe = parse_recipe(value);
    if (!recipe) {
      return bad_value(key, value, "expected a recipe: 300, x200, 300x200 or 300x200-cover");
    }
    policy.presets.push_back({std::string(name), *recipe});
    return Status::Ok();
  }
  if (key == "eager") {
    if (split_list(value).empty()) return bad_value(key, value, "expected thumbnail names");
    return Status::Ok();  // resolve_eager, at the end of the section
  }
  return make_error(ErrorCode::kNotFound, "not a recipe setting");
}

Status resolve_eager(AttachmentSchema& attachment, std::string_view value) {
  ThumbnailPolicy& policy = attachment.thumbnails;
  policy.eager.clear();
  for (std::string_view name : split_list(value)) {
    auto spec = parse_thumbnail_name(name, policy.presets);
    if (!spec) return bad_value("eager", value, spec.error().message);
    if (!policy.allows(*spec)) {
      return bad_value("eager", value, quoted(name) + " is not allowed by this section's policy");
    }
    if (std::find(policy.eager.begin(), policy.eager.end(), *spec) == policy.eager.end()) {
      policy.eager.push_back(*spec);
    }
  }
  return Status::Ok();
}

}  // namespace iafs
