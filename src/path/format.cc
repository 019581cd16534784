#include "imageattachfs/format.h"

namespace iafs {

std::optional<ImageFormat> format_from_extension(std::string_view ext) {
  if (ext == "jpg" || ext == "jpeg") return ImageFormat::kJpeg;
  if (ext == "png") return ImageFormat::kPng;
  if (ext == "webp") return ImageFormat::kWebp;
  if (ext == "gif") return ImageFormat::kGif;
  if (ext == "avif") return ImageFormat::kAvif;
  if (ext == "heic" || ext == "heif") return ImageFormat::kHeif;
  return std::nullopt;
}

std::string_view canonical_extension(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "jpg";
    case ImageFormat::kPng:
      return "png";
    case ImageFormat::kWebp:
      return "webp";
    case ImageFormat::kGif:
      return "gif";
    case ImageFormat::kAvif:
      return "avif";
    case ImageFormat::kHeif:
      return "heic";
  }
  return "jpg";
}

std::string_view mime_type(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "image/jpeg";
    case ImageFormat::kPng:
      return "image/png";
    case ImageFormat::kWebp:
      return "image/webp";
    case ImageFormat::kGif:
      return "image/gif";
    case ImageFormat::kAvif:
      return "image/avif";
    case ImageFormat::kHeif:
      return "image/heif";
  }
  return "application/octet-stream";
}

bool is_thumbnail_format(ImageFormat format) { return format != ImageFormat::kHeif; }

}  // namespace iafs
