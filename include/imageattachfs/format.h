// Image formats: file extensions, MIME types and which roles each may play.
#pragma once

#include <cstdint>
#include <optional>
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

// The format an extension names (case-sensitive, lowercase: "jpg", "jpeg",
// "png", "webp", "gif", "avif", "heic", "heif"), or nullopt.
std::optional<ImageFormat> format_from_extension(std::string_view ext);

// The canonical extension of a format ("jpg", "png", ..., "heic").
std::string_view canonical_extension(ImageFormat format);

// "image/jpeg", "image/png", "image/webp", "image/gif", "image/avif", "image/heif".
std::string_view mime_type(ImageFormat format);

// Whether a thumbnail may be encoded in this format (jpg, png, webp, gif, avif).
bool is_thumbnail_format(ImageFormat format);

}  // namespace iafs
