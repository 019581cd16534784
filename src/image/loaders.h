// The libvips loaders the image module allows, and the format each reads:
// the image module's private extension of the format table
// (include/imageattachfs/format.h). Not part of the module's interface.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "imageattachfs/format.h"

namespace iafs::image_detail {

// A loader class left unblocked at start-up and the format family it reads.
struct AllowedLoader {
  const char* class_name;  // blocks or unblocks its _file, _buffer, _source subclasses
  ImageFormat family;      // kHeif for the heif loader, which reads AVIF and HEIC
};

// jpeg, png, webp, gif (libnsgif in 8.14) and heif (AVIF and HEIC).
inline constexpr AllowedLoader kAllowedLoaders[] = {
    {"VipsForeignLoadJpeg", ImageFormat::kJpeg}, {"VipsForeignLoadPng", ImageFormat::kPng},
    {"VipsForeignLoadWebp", ImageFormat::kWebp}, {"VipsForeignLoadNsgif", ImageFormat::kGif},
    {"VipsForeignLoadHeif", ImageFormat::kHeif},
};

// The family a format's bytes are read by: kHeif for AVIF and HEIC (one
// libvips loader; the header's compression tells them apart), else itself.
constexpr ImageFormat loader_family(ImageFormat format) {
  return format == ImageFormat::kAvif ? ImageFormat::kHeif : format;
}

// The family that an allowed loader class reads ("VipsForeignLoadJpegBuffer"
// gives kJpeg, any heif loader kHeif), or nullopt for any other loader.
std::optional<ImageFormat> family_of_loader(const char* loader_class);

// A loader class's short name for messages: "VipsForeignLoadTiffBuffer" gives "Tiff".
std::string describe_loader(const char* loader_class);

}  // namespace iafs::image_detail
