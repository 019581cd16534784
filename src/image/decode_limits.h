// How each loader family is decoded to validate an upload, and the largest
// image each can decode: libvips' and its decoders' own limits, and ours, which
// keep one validation of a 49 MP image under ~250 MB (DESIGN §2a). Measured on
// libvips 8.14.1. Not part of the module's interface.
#pragma once

#include <cstdint>

#include "imageattachfs/format.h"

namespace iafs::image_detail {

struct DecodeLimits {
  // The longest side the decoder reads (libvips refuses the header past it).
  uint32_t max_side;
  // Images over this many pixels are refused as too big: the decoder holds
  // the whole image (libheif: ~6.5 bytes a pixel, YCbCr then RGB). 0: no limit.
  uint64_t max_decoded_pixels;
  // GIF: libnsgif holds a w*h*4 canvas; over this many pixels our own LZW
  // scan (gif_scan.h) is the only decode. 0: always decode with libvips.
  uint64_t max_libvips_pixels;
};

constexpr DecodeLimits decode_limits(ImageFormat family) {
  switch (family) {
    case ImageFormat::kJpeg:
      return {65535, 0, 0};  // streamed, 8 rows at a time
    case ImageFormat::kPng:
      return {10000000, 0, 0};  // streamed; VIPS_MAX_COORD
    case ImageFormat::kWebp:
      return {16383, 0, 0};  // decoded scaled down (webp_validation_scale)
    case ImageFormat::kGif:
      return {65535, 0, 16000000};
    case ImageFormat::kAvif:
    case ImageFormat::kHeif:
      return {32768, 25000000, 0};
  }
  return {0, 0, 0};
}

// WebP is decoded whole by libvips 8.14 (an RGBA canvas plus an RGBA frame);
// validation decodes it scaled so that a frame has at most this many pixels:
// libwebp still reads every byte of the bitstream, so truncation and
// corruption are still found.
inline constexpr uint64_t kWebpValidationPixels = 1000000;

}  // namespace iafs::image_detail
