// A BlurHash encoder (woltapp/blurhash, Algorithm.md). Not part of the
// module's interface: make_placeholders (placeholders.h) calls it.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace iafs::image_detail {

// The BlurHash of a width x height image of 8-bit sRGB pixels, 3 bytes each,
// row by row (`rgb` holds exactly width*height*3 bytes), with x_components x
// y_components components (each 1..9): 4 + 2 * x_components * y_components
// characters. The basis functions are sampled at pixel centres, so a solid
// image has AC components of exactly zero (the reference encoder samples at
// pixel corners, which gives a solid image a faint horizontal and vertical
// ramp); any BlurHash decoder reads the result. Meant for small images
// (32 px): the cost is width*height*x_components*y_components.
std::string encode_blurhash(std::span<const uint8_t> rgb, uint32_t width, uint32_t height,
                            int x_components, int y_components);

}  // namespace iafs::image_detail
