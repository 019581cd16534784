// Unit tests for src/image: make_placeholders (BlurHash, colour, LQIP). The
// BlurHash is read back with the independent decoder of blurhash_decoder.h.
#include "image/placeholders.h"

#include <thread>

#include "blurhash_decoder.h"
#include "image_support.h"

TestSuite(placeholders, .init = iafs::test::ensure_vips);

using iafs::test::decode83;
using iafs::test::decode_blurhash;
using iafs::test::Decoded;
using iafs::test::kBase83;
using iafs::test::Rgb;

namespace {

// The original at width x height (no aspect kept), as 8-bit sRGB, blurred
// as a 4x3 BlurHash is (a Gaussian of sigma width/8).
VImage downscaled(const Bytes& original, int width, int height) {
  VImage image = decode_rgb(original);
  return image
      .resize(double(width) / image.width(),
              VImage::option()->set("vscale", double(height) / image.height()))
      .gaussblur(width / 8.0)
      .copy_memory();
}

// The mean absolute difference per channel between a decoded hash and an image.
double mean_error(const Decoded& decoded, const VImage& image) {
  double sum = 0;
  for (int y = 0; y < decoded.height; ++y) {
    for (int x = 0; x < decoded.width; ++x) {
      std::vector<double> p = image.getpoint(x, y);
      for (int ch = 0; ch < 3; ++ch) sum += std::abs(decoded.at(x, y)[ch] - p[ch]);
    }
  }
  return sum / (3.0 * decoded.width * decoded.height);
}

// The mean of a decoded hash over the rectangle [x0, x1) x [y0, y1).
Rgb mean_of(const Decoded& decoded, int x0, int y0, int x1, int y1) {
  Rgb sum{0, 0, 0};
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      for (int ch = 0; ch < 3; ++ch) sum[ch] += decoded.at(x, y)[ch];
    }
  }
  for (double& v : sum) v /= double((x1 - x0) * (y1 - y0));
  return sum;
}

VImage solid(int width, int height, Rgb colour) {
  return (VImage::black(width, height, VImage::option()->set("bands", 3)) +
          std::vector<double>(colour.begin(), colour.end()))
      .cast(VIPS_FORMAT_UCHAR)
      .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
}

// Four quadrants of a width x height image, row by row.
VImage quadrants(int width, int height, Rgb tl, Rgb tr, Rgb bl, Rgb br) {
  int w = width / 2, h = height / 2;
  VImage top = solid(w, h, tl).join(solid(width - w, h, tr), VIPS_DIRECTION_HORIZONTAL);
  VImage bottom =
      solid(w, height - h, bl).join(solid(width - w, height - h, br), VIPS_DIRECTION_HORIZONTAL);
  return top.join(bottom, VIPS_DIRECTION_VERTICAL);
}

iafs::Placeholders placeholders_of(const Bytes& original) {
  auto out = iafs::make_placeholders(original);
  cr_assert(out.ok(), "make_placeholders failed: %s", out.ok() ? "" : out.error().message.c_str());
  return std::move(out).value();
}

void expect_well_formed(const std::string& hash) {
  cr_expect_eq(hash.size(), 28u, "hash %s has %zu characters", hash.c_str(), hash.size());
  for (char c : hash) {
    cr_expect(kBase83.find(c) != std::string_view::npos, "%s: '%c' is not base 83", hash.c_str(),
              c);
  }
  cr_expect_eq(hash[0], 'L', "%s: 4x3 components are flagged 'L' (base83[3 + 2 * 9])",
               hash.c_str());
}

void expect_hex(uint32_t color, const char* expected) {
  std::string hex = iafs::color_hex(color);
  cr_expect(hex == expected, "color_hex(%06x) is %s, expected %s", color, hex.c_str(), expected);
}

double distance(const Rgb& a, const Rgb& b) {
  return std::abs(a[0] - b[0]) + std::abs(a[1] - b[1]) + std::abs(a[2] - b[2]);
}

// The RIFF chunks of a WebP, in order.
std::vector<std::string> webp_chunks(const Bytes& webp) {
  std::vector<std::string> chunks;
  cr_assert_geq(webp.size(), 12u);
  cr_assert(std::memcmp(webp.data(), "RIFF", 4) == 0 &&
            std::memcmp(webp.data() + 8, "WEBP", 4) == 0);
  for (size_t at = 12; at + 8 <= webp.size();) {
    size_t payload =
        webp[at + 4] | webp[at + 5] << 8 | webp[at + 6] << 16 | size_t(webp[at + 7]) << 24;
    chunks.emplace_back(webp.begin() + long(at), webp.begin() + long(at) + 4);
    at += 8 + payload + (payload & 1);
  }
  return chunks;
}

}  // namespace

// --- BlurHash ---------------------------------------------------------------

// Derived by hand from the format: flag 'L' (4x3), maximum '0' (no AC at all),
// the DC 0x336699 = 3368601 = 5*83^3 + 73*83^2 + 81*83 + 46 -> "5?}k", and 11
// neutral AC components 9*19^2 + 9*19 + 9 = 3429 = 41*83 + 26 -> "fQ".
Test(placeholders, blurhash_of_a_solid_colour_is_the_known_answer) {
  auto out = placeholders_of(encode(solid(640, 480, {0x33, 0x66, 0x99}), ".png"));
  std::string expected = "L05?}k";
  for (int k = 0; k < 11; ++k) expected += "fQ";
  cr_expect_str_eq(out.blurhash.c_str(), expected.c_str(), "hash %s", out.blurhash.c_str());
  Decoded decoded = decode_blurhash(out.blurhash, 32, 24);
  for (const Rgb& p : decoded.pixels) {
    cr_expect(
        std::abs(p[0] - 0x33) <= 2 && std::abs(p[1] - 0x66) <= 2 && std::abs(p[2] - 0x99) <= 2,
        "decoded %g %g %g", p[0], p[1], p[2]);
  }
}

Test(placeholders, blurhash_of_red_and_blue_halves_decodes_to_them) {
  Bytes original =
      encode(quadrants(640, 480, {255, 0, 0}, {0, 0, 255}, {255, 0, 0}, {0, 0, 255}), ".png");
  auto out = placeholders_of(original);
  expect_well_formed(out.blurhash);
  Decoded decoded = decode_blurhash(out.blurhash, 32, 24);
  Rgb left = mean_of(decoded, 0, 0, 16, 24), right = mean_of(decoded, 16, 0, 32, 24);
  cr_expect(left[0] > left[2] + 100, "left %g %g %g", left[0], left[1], left[2]);
  cr_expect(right[2] > right[0] + 100, "right %g %g %g", right[0], right[1], right[2]);
  double error = mean_error(decoded, downscaled(original, 32, 24));
  Bytes mirrored =
      encode(quadrants(640, 480, {0, 0, 255}, {255, 0, 0}, {0, 0, 255}, {255, 0, 0}), ".png");
  double control = mean_error(decoded, downscaled(mirrored, 32, 24));
  cr_log_info("red and blue: %s, error %g, control %g", out.blurhash.c_str(), error, control);
  cr_expect_lt(error, 40, "mean error %g (%s)", error, out.blurhash.c_str());
  cr_expect_lt(error * 3, control, "error %g, against the mirrored image %g", error, control);
}

Test(placeholders, blurhash_of_four_quadrants_decodes_to_them) {
  Rgb colours[4] = {{230, 30, 30}, {30, 200, 30}, {30, 30, 220}, {240, 230, 40}};
  Bytes original =
      encode(quadrants(640, 480, colours[0], colours[1], colours[2], colours[3]), ".png");
  auto out = placeholders_of(original);
  expect_well_formed(out.blurhash);
  Decoded decoded = decode_blurhash(out.blurhash, 32, 24);
  // The middle of each quadrant is closest to that quadrant's colour.
  Rgb middles[4] = {mean_of(decoded, 4, 3, 12, 9), mean_of(decoded, 20, 3, 28, 9),
                    mean_of(decoded, 4, 15, 12, 21), mean_of(decoded, 20, 15, 28, 21)};
  for (int q = 0; q < 4; ++q) {
    for (int other = 0; other < 4; ++other) {
      if (other == q) continue;
      cr_expect_lt(distance(middles[q], colours[q]), distance(middles[q], colours[other]),
                   "quadrant %d decoded %g %g %g, nearer colour %d (%s)", q, middles[q][0],
                   middles[q][1], middles[q][2], other, out.blurhash.c_str());
    }
  }
  double error = mean_error(decoded, downscaled(original, 32, 24));
  Bytes rotated =
      encode(quadrants(640, 480, colours[3], colours[2], colours[1], colours[0]), ".png");
  double control = mean_error(decoded, downscaled(rotated, 32, 24));
  cr_log_info("four quadrants: %s, error %g, control %g", out.blurhash.c_str(), error, control);
  cr_expect_lt(error, 40, "mean error %g (%s)", error, out.blurhash.c_str());
  cr_expect_lt(error * 2, control, "error %g, against the image turned around %g", error, control);
}

Test(placeholders, blurhash_is_28_base83_characters_for_any_original) {
  std::vector<Bytes> originals = {make_image(640, 480, ".jpg"),
                                  make_image(1, 1, ".png"),
                                  make_image(3000, 2, ".webp"),
                                  make_image(90, 60, ".gif"),
                                  make_image(120, 80, ".avif"),
                                  make_image(120, 80, ".heic", true),
                                  encode(solid(64, 64, {0, 0, 0}), ".png"),
                                  encode(solid(64, 64, {255, 255, 255}), ".png")};
  std::string photo_path = testdata("colorful-cups-2560x1600.jpg");
  if (!photo_path.empty()) originals.push_back(read_file(photo_path));
  for (const Bytes& original : originals) {
    auto out = placeholders_of(original);
    expect_well_formed(out.blurhash);
    (void)decode_blurhash(out.blurhash, 8, 6);
  }
}

// --- colour -----------------------------------------------------------------

Test(placeholders, color_of_a_solid_image_is_that_colour) {
  auto out = placeholders_of(encode(solid(640, 480, {0x33, 0x66, 0x99}), ".png"));
  cr_expect_eq(out.color, 0x336699u, "colour %06x", out.color);
  expect_hex(out.color, "#336699");
}

Test(placeholders, color_of_black_and_white_halves_is_mid_grey) {
  auto out = placeholders_of(
      encode(quadrants(640, 480, {0, 0, 0}, {255, 255, 255}, {0, 0, 0}, {255, 255, 255}), ".png"));
  for (int shift : {16, 8, 0}) {
    uint32_t channel = (out.color >> shift) & 255;
    cr_expect(channel >= 0x7c && channel <= 0x83, "colour %s", iafs::color_hex(out.color).c_str());
  }
}

Test(placeholders, color_of_a_transparent_image_is_white) {
  VImage clear = solid(64, 48, {10, 20, 30}).bandjoin_const({0});
  auto out = placeholders_of(encode(clear, ".png"));
  expect_hex(out.color, "#ffffff");
  cr_expect_eq(decode83(out.blurhash.substr(2, 4)), 0xffffffu, "DC of %s", out.blurhash.c_str());
}

Test(placeholders, color_hex_is_lower_case_and_padded) {
  expect_hex(0x336699, "#336699");
  expect_hex(0, "#000000");
  expect_hex(0xABCDEF, "#abcdef");
  expect_hex(0x0000ff, "#0000ff");
}

// --- LQIP -------------------------------------------------------------------

static void expect_lqip(const Bytes& original, uint32_t width, uint32_t height) {
  auto out = placeholders_of(original);
  cr_expect_eq(out.lqip_width, width, "width %u, expected %u", out.lqip_width, width);
  cr_expect_eq(out.lqip_height, height, "height %u, expected %u", out.lqip_height, height);
  cr_assert_eq(loader_of(out.lqip).rfind("VipsForeignLoadWebp", 0), 0u);
  VImage image = decode(out.lqip);
  cr_expect_eq(image.width(), int(width));
  cr_expect_eq(image.height(), int(height));
}

Test(placeholders, lqip_of_landscape_is_32_wide) {
  expect_lqip(make_image(640, 480, ".jpg"), 32, 24);
}
Test(placeholders, lqip_of_portrait_is_32_high) {
  expect_lqip(make_image(480, 640, ".png"), 24, 32);
}
Test(placeholders, lqip_floors_the_shorter_side) {
  expect_lqip(make_image(100, 55, ".png"), 32, 17);   // 17.6
  expect_lqip(make_image(57, 100, ".webp"), 18, 32);  // 18.24
  expect_lqip(make_image(2000, 10, ".png"), 32, 1);   // 0.16, at least 1
  expect_lqip(make_image(7, 5, ".png"), 32, 22);      // a small original is enlarged
}

Test(placeholders, lqip_applies_exif_orientation) {
  Bytes original = make_image(640, 480, ".jpg", false, 6);  // displayed 480x640
  expect_lqip(original, 24, 32);
  VImage image = decode_rgb(placeholders_of(original).lqip);
  // Orientation 6: the stored bottom-left corner is displayed top left
  // (thumbnail_test's orientation_6_is_upright).
  expect_corner(image, 1, 1, kBottomLeft);
  expect_corner(image, image.width() - 2, 1, kTopLeft);
}

Test(placeholders, lqip_has_no_metadata) {
  std::vector<Bytes> originals = {make_image(640, 480, ".jpg", false, 6)};
  std::string photo_path = testdata("colorful-cups-2560x1600.jpg");
  if (!photo_path.empty()) {
    originals.push_back(read_file(photo_path));
    cr_assert(has_field_containing(decode(originals.back()), "GPS"));
  }
  // An original with an ICC profile (libvips' sRGB profile attached).
  VImage tagged = decode_rgb(make_image(200, 100, ".png"))
                      .icc_transform("srgb", VImage::option()->set("embedded", false));
  originals.push_back(encode(tagged, ".png"));
  cr_assert(has_field_containing(decode(originals.back()), "icc"), "the original should carry ICC");
  for (const Bytes& original : originals) {
    Bytes lqip = placeholders_of(original).lqip;
    for (const std::string& chunk : webp_chunks(lqip)) {
      cr_expect(chunk == "VP8 " || chunk == "VP8L" || chunk == "VP8X" || chunk == "ALPH",
                "chunk %s in the LQIP", chunk.c_str());
    }
    VImage image = decode(lqip);
    for (const char* field : {"exif", "GPS", "xmp", "icc", "orientation"}) {
      cr_expect_not(has_field_containing(image, field), "the LQIP kept %s", field);
    }
  }
}

Test(placeholders, lqip_of_a_transparent_image_is_opaque_white) {
  VImage clear = solid(64, 48, {10, 20, 30}).bandjoin_const({0});
  VImage image = decode(placeholders_of(encode(clear, ".png")).lqip);
  cr_expect_eq(image.bands(), 3);
  std::vector<double> p = image.getpoint(10, 10);
  for (double v : p) cr_expect_geq(v, 250, "transparent became %g", v);
}

Test(placeholders, cmyk_grey_and_16_bit_originals_give_rgb_placeholders) {
  VImage rgb = solid(80, 60, {200, 40, 40});
  VImage rgb16 = (rgb.cast(VIPS_FORMAT_USHORT) * 257)
                     .cast(VIPS_FORMAT_USHORT)
                     .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_RGB16));
  struct Case {
    Bytes original;
    uint32_t red_at_least, red_at_most;
  };
  std::vector<Case> cases = {
      {encode(rgb.colourspace(VIPS_INTERPRETATION_CMYK), ".jpg"), 170, 230},
      {encode(rgb16, ".png"), 200, 200},
      {encode(rgb.colourspace(VIPS_INTERPRETATION_B_W), ".jpg"), 70, 110},
  };
  for (const Case& c : cases) {
    auto out = placeholders_of(c.original);
    expect_well_formed(out.blurhash);
    uint32_t red = out.color >> 16;
    cr_expect(red >= c.red_at_least && red <= c.red_at_most, "colour %s",
              iafs::color_hex(out.color).c_str());
    cr_expect_eq(decode(out.lqip).bands(), 3);
  }
}

Test(placeholders, are_made_concurrently_with_equal_results) {
  Bytes original = make_image(640, 480, ".jpg", false, 6);
  iafs::Placeholders first = placeholders_of(original);
  std::vector<std::thread> threads;
  threads.reserve(8);
  std::vector<int> same(8, 0);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto out = iafs::make_placeholders(original);
      same[i] = out.ok() && out->blurhash == first.blurhash && out->color == first.color &&
                out->lqip == first.lqip;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) cr_expect(same[i], "thread %d differed", i);
}

// --- hostile input ------------------------------------------------------------

static void expect_io_error(const Bytes& bytes) {
  auto out = iafs::make_placeholders(bytes);
  cr_assert_not(out.ok(), "made placeholders of %zu bytes that are not an image", bytes.size());
  cr_expect_eq(out.error().code, ErrorCode::kIo);
  cr_expect_not(out.error().message.empty());
}

Test(placeholders, garbage_is_io_error) {
  std::string_view text = "definitely not an image";
  expect_io_error(Bytes(text.begin(), text.end()));
  expect_io_error(Bytes{});
  Bytes png = make_image(64, 64, ".png");
  expect_io_error(Bytes(png.begin(), png.begin() + 40));  // the header and nothing more
}
