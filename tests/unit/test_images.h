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

}  // namespace iafs::test
