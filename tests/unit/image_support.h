// Helpers shared by the unit tests of src/image (image_test.cc, thumbnail_test.cc).
#pragma once

#include <criterion/criterion.h>
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
#include <vips/vips8>

#include "image/image.h"
#include "image/loaders.h"
#include "test_images.h"

// A recipe's output size with nothing enlarged (DESIGN §2a), no focus.
inline std::optional<iafs::Dimensions> dimensions_of(uint32_t width, uint32_t height,
                                                     const iafs::ThumbnailSpec& spec) {
  auto plan = iafs::plan_thumbnail(width, height, spec, iafs::Enlarge::kNo, std::nullopt);
  if (!plan) return std::nullopt;
  return plan->size;
}

using iafs::Dimensions;
using iafs::ErrorCode;
using iafs::ImageFormat;
using iafs::ThumbFit;
using iafs::ThumbnailSpec;
using iafs::test::make_image;
using iafs::test::read_file;
using iafs::test::testdata;
using vips::VImage;
using Bytes = std::vector<uint8_t>;

inline iafs::OriginalLimits all_formats() {
  iafs::OriginalLimits limits;
  limits.formats = {ImageFormat::kJpeg, ImageFormat::kPng,  ImageFormat::kWebp,
                    ImageFormat::kGif,  ImageFormat::kAvif, ImageFormat::kHeif};
  return limits;
}

inline Bytes photo(const std::string& name) {
  std::string path = testdata(name);
  if (path.empty()) cr_skip_test("testdata %s is absent", name.c_str());
  return read_file(path);
}

inline Bytes encode(const VImage& image, const char* suffix) {
  void* buf = nullptr;
  size_t size = 0;
  image.write_to_buffer(suffix, &buf, &size);
  Bytes out(static_cast<uint8_t*>(buf), static_cast<uint8_t*>(buf) + size);
  g_free(buf);
  return out;
}

// Decodes with libvips directly (loaders still restricted to the allowed ones),
// into memory: libvips borrows the bytes, which are often a temporary here.
inline VImage decode(const Bytes& bytes) {
  return VImage::new_from_buffer(bytes.data(), bytes.size(), "").copy_memory();
}

// The image decoded, converted to 8-bit sRGB: a plain RGB image to compare.
inline VImage decode_rgb(const Bytes& bytes) {
  return decode(bytes).colourspace(VIPS_INTERPRETATION_sRGB).cast(VIPS_FORMAT_UCHAR);
}

inline std::string loader_of(const Bytes& bytes) {
  const char* name = vips_foreign_find_load_buffer(bytes.data(), bytes.size());
  vips_error_clear();
  return name ? name : "";
}

inline void expect_probe(const Bytes& bytes, ImageFormat expected, uint32_t width,
                         uint32_t height) {
  auto info = iafs::probe_original(bytes, expected, all_formats());
  cr_assert(info.ok(), "probe refused: %s", info.ok() ? "" : info.error().message.c_str());
  cr_expect_eq(info->format, expected);
  cr_expect_eq(info->width, width, "width %u, expected %u", info->width, width);
  cr_expect_eq(info->height, height, "height %u, expected %u", info->height, height);
}

inline void expect_refused(const Bytes& bytes, ImageFormat expected, ErrorCode code,
                           const iafs::OriginalLimits& limits = all_formats()) {
  auto info = iafs::probe_original(bytes, expected, limits);
  cr_assert_not(info.ok(), "probe accepted what it should refuse");
  cr_expect_eq(info.error().code, code, "wrong code; message: %s", info.error().message.c_str());
  cr_expect_not(info.error().message.empty());
}

inline iafs::EncodedImage thumb(const Bytes& original, Dimensions size, ImageFormat format) {
  auto out = iafs::make_thumbnail(original, iafs::resize_plan(size), format, 80);
  cr_assert(out.ok(), "make_thumbnail failed: %s", out.ok() ? "" : out.error().message.c_str());
  return std::move(out).value();
}

inline uint32_t crc32(const uint8_t* data, size_t size) {
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

inline void put_be32(uint8_t* at, uint32_t value) {
  for (int i = 0; i < 4; ++i) at[i] = uint8_t(value >> (24 - 8 * i));
}

// A small real PNG whose IHDR is rewritten to claim width x height (CRC fixed).
inline Bytes png_claiming(uint32_t width, uint32_t height) {
  Bytes png = make_image(4, 4, ".png");
  cr_assert(std::memcmp(png.data() + 12, "IHDR", 4) == 0);
  put_be32(png.data() + 16, width);
  put_be32(png.data() + 20, height);
  put_be32(png.data() + 29, crc32(png.data() + 12, 17));
  return png;
}

// Stored corners of make_image's gradient: red grows to the right, green downwards.
enum Corner { kTopLeft, kTopRight, kBottomLeft, kBottomRight };

inline void expect_corner(const VImage& image, int x, int y, Corner corner) {
  std::vector<double> p = image.getpoint(x, y);
  bool right = corner == kTopRight || corner == kBottomRight;
  bool bottom = corner == kBottomLeft || corner == kBottomRight;
  cr_expect_eq(p[0] > 128, right, "pixel (%d,%d) red %g", x, y, p[0]);
  cr_expect_eq(p[1] > 128, bottom, "pixel (%d,%d) green %g", x, y, p[1]);
}

// A 200x100 JPEG tagged with `orientation`: its thumbnail 50 wide must be
// upright, with the stored corners `top_left` and `top_right` on top.
inline void expect_upright(int orientation, Corner top_left, Corner top_right) {
  Bytes original = make_image(200, 100, ".jpg", false, orientation);
  auto info = iafs::probe_original(original, ImageFormat::kJpeg, all_formats());
  cr_assert(info.ok());
  bool swapped = orientation >= 5;
  cr_expect_eq(info->width, swapped ? 100u : 200u);
  auto size = dimensions_of(info->width, info->height, ThumbnailSpec{ThumbFit::kWidth, 50});
  cr_assert(size.has_value());
  cr_expect_eq(size->height, swapped ? 100u : 25u);
  auto out = thumb(original, *size, ImageFormat::kPng);
  VImage image = decode_rgb(out.bytes);
  cr_assert_eq(image.width(), 50);
  cr_assert_eq(image.height(), int(size->height));
  expect_corner(image, 0, 0, top_left);
  expect_corner(image, image.width() - 1, 0, top_right);
}

inline bool has_field_containing(const VImage& image, std::string_view needle) {
  char** fields = vips_image_get_fields(image.get_image());
  bool found = false;
  for (char** f = fields; *f; ++f)
    found = found || std::string_view(*f).find(needle) != std::string_view::npos;
  g_strfreev(fields);
  return found;
}
