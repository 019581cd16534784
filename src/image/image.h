// libvips: validate and measure originals, make thumbnails (DESIGN §2a).
// Knows nothing of storage.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "imageattachfs/format.h"
#include "imageattachfs/image_path.h"
#include "imageattachfs/result.h"
#include "imageattachfs/schema.h"

namespace iafs {

// Starts libvips for this process: operation cache off, untrusted loaders
// blocked, every loader blocked but jpeg, png, webp, gif and heif; libvips'
// log routed into ours at debug level. Call once, after any fork().
Status image_init(const char* argv0);

// Stops libvips (vips_shutdown). Call once at exit.
void image_shutdown();

struct ImageInfo {
  ImageFormat format;
  uint32_t width = 0;  // as displayed: after EXIF orientation
  uint32_t height = 0;
};

// Validates an original: first the header (its format must be `expected`, else
// kInvalid; bytes over limits.max_bytes or width*height over limits.max_pixels:
// kTooBig, before any pixel is decoded; a format not in limits.formats:
// kInvalid), then one full sequential decode that fails on truncation (kInvalid).
// Empty or non-image bytes: kInvalid. Messages say why, for the log.
Result<ImageInfo> probe_original(std::span<const uint8_t> bytes, ImageFormat expected,
                                 const OriginalLimits& limits);

struct Dimensions {
  uint32_t width = 0;
  uint32_t height = 0;
};

// The exact size of a thumbnail of an original of (displayed) size
// width x height: `300` gives 300 x max(1, floor(H*300/W)); `x200` gives
// max(1, floor(W*200/H)) x 200. nullopt when the requested side is larger
// than the original's.
std::optional<Dimensions> thumbnail_dimensions(uint32_t width, uint32_t height,
                                               const ThumbnailSpec& spec);

struct EncodedImage {
  std::vector<uint8_t> bytes;
  uint32_t width = 0;
  uint32_t height = 0;
};

// Makes a thumbnail of exactly `size` from the original's bytes, in
// `format`: shrink-on-load, EXIF orientation applied, sRGB, all metadata
// stripped, alpha flattened onto white for JPEG, first frame of animations.
// `quality` (1..100) applies to lossy formats. Errors: kIo with libvips' reason.
Result<EncodedImage> make_thumbnail(std::span<const uint8_t> original, Dimensions size,
                                    ImageFormat format, int quality);

}  // namespace iafs
