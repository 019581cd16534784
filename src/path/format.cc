#include "imageattachfs/format.h"

#include <vector>

namespace iafs {
namespace {

constexpr FormatInfo kFormats[] = {
    {ImageFormat::kJpeg, "jpg", "jpeg", "image/jpeg", "JPEG", true},
    {ImageFormat::kPng, "png", "", "image/png", "PNG", true},
    {ImageFormat::kWebp, "webp", "", "image/webp", "WebP", true},
    {ImageFormat::kGif, "gif", "", "image/gif", "GIF", true},
    {ImageFormat::kAvif, "avif", "", "image/avif", "AVIF", true},
    {ImageFormat::kHeif, "heic", "heif", "image/heif", "HEIC", false},
};

// "a, b, c or d".
std::string join_as_list(const std::vector<std::string_view>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
    out += items[i];
  }
  return out;
}

}  // namespace

std::span<const FormatInfo> all_formats() { return kFormats; }

const FormatInfo& format_info(ImageFormat format) {
  for (const FormatInfo& info : kFormats) {
    if (info.format == format) return info;
  }
  return kFormats[0];
}

std::optional<ImageFormat> format_from_extension(std::string_view ext) {
  if (ext.empty()) return std::nullopt;
  for (const FormatInfo& info : kFormats) {
    if (ext == info.extension || ext == info.alias) return info.format;
  }
  return std::nullopt;
}

std::string_view canonical_extension(ImageFormat format) { return format_info(format).extension; }

std::string_view mime_type(ImageFormat format) { return format_info(format).mime_type; }

std::string_view display_name(ImageFormat format) { return format_info(format).display_name; }

bool is_thumbnail_format(ImageFormat format) { return format_info(format).thumbnail; }

std::string original_extension_list() {
  std::vector<std::string_view> items;
  for (const FormatInfo& info : kFormats) {
    items.push_back(info.extension);
    if (!info.alias.empty()) items.push_back(info.alias);
  }
  return join_as_list(items);
}

std::string thumbnail_extension_list() {
  std::vector<std::string_view> items;
  for (const FormatInfo& info : kFormats) {
    if (info.thumbnail) items.push_back(info.extension);
  }
  return join_as_list(items);
}

}  // namespace iafs
