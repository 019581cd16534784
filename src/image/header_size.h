// The size a file's header claims, read from its bytes by our own small,
// bounds-checked parsers, before (and without) any libvips loader: libvips
// refuses to even read some headers past its own limits (PNG 1x100000000,
// WebP 16383x16383, AVIF 60000x60000), and such files must be refused as
// too big, not as invalid. Not part of the module's interface.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "imageattachfs/format.h"

namespace iafs::image_detail {

struct ClaimedSize {
  uint32_t width = 0;
  uint32_t height = 0;

  uint64_t pixels() const { return uint64_t(width) * height; }
};

// The canvas size claimed by bytes of a loader family (kJpeg: the first SOF;
// kPng: IHDR; kWebp: VP8X canvas, else VP8/VP8L frame; kGif: the logical
// screen grown to hold every frame; kHeif: the primary item's `ispe`).
// nullopt when the header is absent, malformed or cut short.
std::optional<ClaimedSize> claimed_size(std::span<const uint8_t> bytes, ImageFormat family);

// The primary item's `ispe` of an ISOBMFF (HEIF/AVIF) file, or nullopt.
std::optional<ClaimedSize> heif_primary_size(std::span<const uint8_t> bytes);

}  // namespace iafs::image_detail
