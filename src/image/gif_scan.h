// Our own walk over a GIF's blocks, and an LZW decoder that only counts the
// pixels each frame's data yields: libnsgif 8.14 shows missing frame data as
// transparency without complaint (a 2000x2000 frame holding one pixel of LZW
// data loaded as a 2000x2000 image). Bounded memory (a 4096-entry table),
// time linear in the bytes. Not part of the module's interface.
#pragma once

#include <cstdint>
#include <span>

#include "imageattachfs/result.h"

namespace iafs::image_detail {

struct GifLayout {
  uint32_t width = 0;  // the logical screen, grown to hold every frame
  uint32_t height = 0;
  uint32_t frames = 0;
};

enum class GifCheck {
  kBlocks,  // the block structure only: sizes, frames, the trailer
  kPixels,  // also decode every frame's LZW data, which must yield w*h pixels
};

// The layout of a GIF. Errors (kInvalid), with a message naming the frame:
// not a GIF, cut short before the trailer, an LZW code that is not in the
// table, or (kPixels) a frame whose data ends before its last pixel.
Result<GifLayout> scan_gif(std::span<const uint8_t> bytes, GifCheck check);

}  // namespace iafs::image_detail
