// Image formats: the one table of what the product knows about each format
// (extensions, MIME type, display name, roles). Adding a format means adding
// an ImageFormat value and its row in kFormats (src/path/format.cc), and its
// loader in src/image/loaders.h.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace iafs {

enum class ImageFormat : uint8_t {
  kJpeg = 1,
  kPng = 2,
  kWebp = 3,
  kGif = 4,
  kAvif = 5,
  kHeif = 6,
};

// One row of the format table.
struct FormatInfo {
  ImageFormat format;
  std::string_view extension;     // canonical, lowercase: names thumbnails, sorts first
  std::string_view alias;         // a second accepted extension of originals, or ""
  std::string_view mime_type;     // user.image.mimetype
  std::string_view display_name;  // for log lines: "JPEG", "WebP", ...
  bool thumbnail;                 // whether thumbnails may be encoded in it
};

// Every format, in the order lists show them (jpg, png, webp, gif, avif, heic).
std::span<const FormatInfo> all_formats();

// The table's row of a format. REQUIRES: a value of the enum.
const FormatInfo& format_info(ImageFormat format);

// The format an extension names (case-sensitive, lowercase: "jpg", "jpeg",
// "png", "webp", "gif", "avif", "heic", "heif"), or nullopt.
std::optional<ImageFormat> format_from_extension(std::string_view ext);

// The canonical extension of a format ("jpg", "png", ..., "heic").
std::string_view canonical_extension(ImageFormat format);

// "image/jpeg", "image/png", "image/webp", "image/gif", "image/avif", "image/heif".
std::string_view mime_type(ImageFormat format);

// "JPEG", "PNG", "WebP", "GIF", "AVIF", "HEIC".
std::string_view display_name(ImageFormat format);

// Whether a thumbnail may be encoded in this format (jpg, png, webp, gif, avif).
bool is_thumbnail_format(ImageFormat format);

// For error messages: every extension of originals, aliases included
// ("jpg, jpeg, png, webp, gif, avif, heic or heif").
std::string original_extension_list();

// For error messages: the extensions of thumbnails ("jpg, png, webp, gif or avif").
std::string thumbnail_extension_list();

}  // namespace iafs
