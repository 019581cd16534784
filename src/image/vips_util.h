// Helpers shared by the image module's sources; not part of its interface.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "imageattachfs/format.h"

namespace iafs::image_detail {

// A loader class left unblocked at start-up and the format it reads.
struct AllowedLoader {
  const char* class_name;  // blocks or unblocks its _file, _buffer, _source subclasses
  ImageFormat format;
};

// jpeg, png, webp, gif (libnsgif in 8.14) and heif (AVIF and HEIC).
inline constexpr AllowedLoader kAllowedLoaders[] = {
    {"VipsForeignLoadJpeg", ImageFormat::kJpeg}, {"VipsForeignLoadPng", ImageFormat::kPng},
    {"VipsForeignLoadWebp", ImageFormat::kWebp}, {"VipsForeignLoadNsgif", ImageFormat::kGif},
    {"VipsForeignLoadHeif", ImageFormat::kHeif},
};

// The message libvips left in its (process-wide) error buffer, on one line,
// and clears the buffer. `fallback` when the buffer is empty.
std::string take_vips_error(const char* fallback);

// Joins a libvips message (possibly several lines) into one line.
std::string one_line(std::string message);

// The format that an allowed loader class reads ("VipsForeignLoadJpegBuffer"
// gives kJpeg; any heif loader gives kHeif, AVIF or HEIC being told apart by
// the header's "heif-compression"), or nullopt for any other loader.
std::optional<ImageFormat> format_of_loader(const char* loader_class);

// A format's name for log lines: "JPEG", "PNG", "WebP", "GIF", "AVIF", "HEIC".
const char* format_name(ImageFormat format);

// Removes the EXIF and XMP chunks of an encoded WebP in place (clearing
// their VP8X flags). False, leaving `webp` as it was, when it is not a
// well-formed RIFF WebP.
bool strip_webp_metadata(std::vector<uint8_t>& webp);

}  // namespace iafs::image_detail
