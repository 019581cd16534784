#include "imageattachfs/schema.h"

#include <algorithm>

namespace iafs {

bool SizePolicy::allows(uint32_t size) const {
  if (size < 1 || size > max) return false;
  if (!sizes.empty() && std::find(sizes.begin(), sizes.end(), size) == sizes.end()) return false;
  return step == 0 || size % step == 0;
}

bool BoxPolicy::allows(uint32_t width, uint32_t height, const SizePolicy& widths,
                       const SizePolicy& heights) const {
  switch (kind) {
    case Kind::kAny:
      return widths.allows(width) && heights.allows(height);
    case Kind::kList:
      return std::binary_search(boxes.begin(), boxes.end(), std::pair{width, height});
    case Kind::kNone:
      break;
  }
  return false;
}

bool ThumbnailPolicy::allows(const ThumbnailSpec& spec) const {
  if (spec.fit == ThumbFit::kLqip) return spec.format == ImageFormat::kWebp;
  if (!is_thumbnail_format(spec.format)) return false;
  if (!formats.empty() && std::find(formats.begin(), formats.end(), spec.format) == formats.end()) {
    return false;
  }
  for (const Preset& preset : presets) {
    if (preset.recipe.fit == spec.fit && preset.recipe.width == spec.width &&
        preset.recipe.height == spec.height) {
      return true;
    }
  }
  switch (spec.fit) {
    case ThumbFit::kWidth:
      return widths.allows(spec.width);
    case ThumbFit::kHeight:
      return heights.allows(spec.height);
    default:
      return boxes.allows(spec.width, spec.height, widths, heights);
  }
}

int ThumbnailPolicy::quality_for(ImageFormat format) const {
  for (const auto& [with, value] : format_quality) {
    if (with == format) return value;
  }
  return quality;
}

// An empty list accepts every format: a hand-built OriginalLimits{} behaves
// like the default schema. The parser never produces an empty list.
bool OriginalLimits::accepts(ImageFormat format) const {
  return formats.empty() || std::find(formats.begin(), formats.end(), format) != formats.end();
}

const AttachmentSchema* TypeSchema::find_attachment(std::string_view name) const {
  for (const AttachmentSchema& attachment : attachments) {
    if (attachment.name == name) return &attachment;
  }
  return nullptr;
}

const TypeSchema* Schema::find_type(std::string_view name) const {
  for (const TypeSchema& type : types) {
    if (type.name == name) return &type;
  }
  return nullptr;
}

const AttachmentSchema* Schema::find_attachment(std::string_view type,
                                                std::string_view attachment) const {
  const TypeSchema* found = find_type(type);
  return found == nullptr ? nullptr : found->find_attachment(attachment);
}

}  // namespace iafs
