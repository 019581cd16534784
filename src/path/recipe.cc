#include "imageattachfs/recipe.h"

#include <cstdint>

#include "base/numbers.h"

namespace iafs {
namespace {

constexpr std::string_view kLqip = "lqip";

struct CropName {
  ThumbFit fit;
  std::string_view suffix;
};
constexpr CropName kCrops[] = {
    {ThumbFit::kCoverAttention, "-cover-attention"},
    {ThumbFit::kCoverEntropy, "-cover-entropy"},
    {ThumbFit::kCover, "-cover"},
};

std::optional<uint32_t> side(std::string_view text, uint64_t max) {
  std::optional<uint64_t> value = parse_canonical_decimal(text, max);
  if (!value || *value == 0) return std::nullopt;
  return static_cast<uint32_t>(*value);
}

// `spec` with every side multiplied by `ratio`; nullopt past the sides' limits.
std::optional<ThumbnailSpec> scaled(ThumbnailSpec spec, uint32_t ratio) {
  uint64_t limit = spec.is_box() ? kMaxBoxSide : UINT32_MAX;
  uint64_t width = uint64_t{spec.width} * ratio, height = uint64_t{spec.height} * ratio;
  if (width > limit || height > limit) return std::nullopt;
  spec.width = static_cast<uint32_t>(width);
  spec.height = static_cast<uint32_t>(height);
  return spec;
}

}  // namespace

Error name_not_found(std::string_view name, std::string_view why) {
  std::string message = "'";
  message.append(name);
  message.append("': ");
  message.append(why);
  return make_error(ErrorCode::kNotFound, std::move(message));
}

std::optional<ThumbnailSpec> parse_recipe(std::string_view text) {
  ThumbnailSpec spec;
  for (const CropName& crop : kCrops) {
    if (text.ends_with(crop.suffix)) {
      auto box = parse_recipe(text.substr(0, text.size() - crop.suffix.size()));
      if (!box || box->fit != ThumbFit::kBox) return std::nullopt;
      box->fit = crop.fit;
      return box;
    }
  }
  if (text.starts_with('x')) {
    auto height = side(text.substr(1), UINT32_MAX);
    if (!height) return std::nullopt;
    spec.fit = ThumbFit::kHeight;
    spec.height = *height;
    return spec;
  }
  size_t cross = text.find('x');
  if (cross == std::string_view::npos) {
    auto width = side(text, UINT32_MAX);
    if (!width) return std::nullopt;
    spec.width = *width;
    return spec;
  }
  auto width = side(text.substr(0, cross), kMaxBoxSide);
  auto height = side(text.substr(cross + 1), kMaxBoxSide);
  if (!width || !height) return std::nullopt;
  spec.fit = ThumbFit::kBox;
  spec.width = *width;
  spec.height = *height;
  return spec;
}

std::string recipe_text(const ThumbnailSpec& spec) {
  switch (spec.fit) {
    case ThumbFit::kWidth:
      return std::to_string(spec.width);
    case ThumbFit::kHeight:
      return "x" + std::to_string(spec.height);
    case ThumbFit::kLqip:
      return std::string(kLqip);
    default:
      break;
  }
  std::string text = std::to_string(spec.width) + "x" + std::to_string(spec.height);
  for (const CropName& crop : kCrops) {
    if (crop.fit == spec.fit) text += crop.suffix;
  }
  return text;
}

std::string thumbnail_name(const ThumbnailSpec& spec) {
  std::string name = recipe_text(spec);
  name += '.';
  name += canonical_extension(spec.format);
  return name;
}

Result<ThumbnailSpec> parse_thumbnail_name(std::string_view name,
                                           std::span<const Preset> presets) {
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return name_not_found(name, "a thumbnail needs an extension");
  std::string_view stem = name.substr(0, dot);
  std::optional<ImageFormat> format = format_from_extension(name.substr(dot + 1));
  if (!format || !is_thumbnail_format(*format)) {
    return name_not_found(name, "a thumbnail extension is " + thumbnail_extension_list());
  }
  if (stem == kLqip) {
    if (*format != ImageFormat::kWebp) return name_not_found(name, "the preview is lqip.webp");
    return ThumbnailSpec{ThumbFit::kLqip, 0, 0, ImageFormat::kWebp};
  }
  uint32_t ratio = 1;
  if (stem.ends_with("@2x") || stem.ends_with("@3x")) {
    ratio = static_cast<uint32_t>(stem[stem.size() - 2] - '0');
    stem.remove_suffix(3);
  }
  std::optional<ThumbnailSpec> spec = parse_recipe(stem);
  if (!spec) {
    for (const Preset& preset : presets) {
      if (preset.name == stem) spec = preset.recipe;
    }
  }
  if (!spec) {
    return name_not_found(name, "not a thumbnail recipe (300, x200, 300x200, 300x200-cover) "
                                 "or preset, with an optional @2x or @3x");
  }
  spec->format = *format;
  std::optional<ThumbnailSpec> sized = scaled(*spec, ratio);
  if (!sized) return name_not_found(name, "too large");
  return *sized;
}

}  // namespace iafs
