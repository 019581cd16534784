// What a page shows before an image arrives: a BlurHash, the average colour
// and a tiny WebP preview (LQIP), computed once per original (issue 13 §10).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "image/image.h"
#include "imageattachfs/result.h"

namespace iafs {

struct Placeholders {
  std::string blurhash;       // BlurHash, 4x3 components: exactly 28 characters
  uint32_t color = 0;         // average colour, 0xRRGGBB: the mean of the sRGB values
  std::vector<uint8_t> lqip;  // thumb/lqip.webp: a WebP, quality kLqipQuality, no metadata
  uint32_t lqip_width = 0;    // the longer side kLqipSide, the shorter
  uint32_t lqip_height = 0;   //   max(1, floor(shorter * kLqipSide / longer))
};

// Computes the placeholders of an original's bytes (already validated by
// probe_original): one shrink-on-load to the preview's size (so a 50 MP
// original costs little memory), EXIF orientation applied, first frame, 8-bit
// sRGB, alpha flattened onto white (as JPEG thumbnails are); the BlurHash and
// the colour are computed on that preview's pixels. Errors: kIo with a reason.
Result<Placeholders> make_placeholders(std::span<const uint8_t> original);

// "#rrggbb", lower case.
std::string color_hex(uint32_t color);

}  // namespace iafs
