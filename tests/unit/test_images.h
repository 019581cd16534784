// Shared helpers for unit tests: images made with libvips, test photographs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace iafs::test {

// Starts libvips once per test process (image_init); safe to call often.
void ensure_vips();

// An image of width x height with a colour gradient, encoded by libvips for
// the file suffix `suffix` (".jpg", ".png", ".webp", ".gif", ".avif", ".heic"),
// optionally with an alpha channel and an EXIF orientation tag (1..8, 0: none).
std::vector<uint8_t> make_image(int width, int height, const std::string& suffix,
                                bool alpha = false, int orientation = 0);

// The bytes of a file; empty when it cannot be read.
std::vector<uint8_t> read_file(const std::string& path);

// The path of a photograph in ../shared/testdata ("rocket.jpg"), or "" when
// that directory is absent (tests then skip with cr_skip_test).
std::string testdata(const std::string& name);

// `jpeg` with its first SOF rewritten to claim width x height.
std::vector<uint8_t> jpeg_claiming(std::vector<uint8_t> jpeg, uint16_t width, uint16_t height);

// A GIF built by hand: a width x height logical screen and frame whose LZW
// data holds one pixel, then the end code.
std::vector<uint8_t> gif_with_one_pixel_of_data(uint16_t width, uint16_t height);

// A small lossless WebP (VP8L) whose header claims width x height (<= 16384).
std::vector<uint8_t> webp_claiming(uint32_t width, uint32_t height);

// A small AVIF whose every `ispe` claims width x height.
std::vector<uint8_t> avif_claiming(uint32_t width, uint32_t height);

}  // namespace iafs::test
