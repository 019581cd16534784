// Unit tests for src/image: make_thumbnail.
#include <criterion/criterion.h>

#include "image/image.h"
#include "image_support.h"

TestSuite(image, .init = iafs::test::ensure_vips);

// --- make_thumbnail ---------------------------------------------------------

Test(image, thumbnail_has_exact_size_by_width) {
  Bytes original = photo("colorful-cups-2560x1600.jpg");
  auto out = thumb(original, Dimensions{300, 187}, ImageFormat::kJpeg);
  cr_expect_eq(out.width, 300u);
  cr_expect_eq(out.height, 187u);
  VImage image = decode(out.bytes);
  cr_expect_eq(image.width(), 300);
  cr_expect_eq(image.height(), 187);
}

Test(image, thumbnail_has_exact_size_by_height) {
  Bytes original = photo("colorful-cups-2560x1600.jpg");
  auto size = dimensions_of(2560, 1600, ThumbnailSpec{ThumbFit::kHeight, 0, 100});
  auto out = thumb(original, *size, ImageFormat::kJpeg);
  VImage image = decode(out.bytes);
  cr_expect_eq(image.width(), 160);
  cr_expect_eq(image.height(), 100);
}

Test(image, thumbnail_has_exact_size_for_many_widths) {
  Bytes original = make_image(997, 613, ".jpg", false, 6);  // displayed 613x997
  for (uint32_t w : {1u, 2u, 3u, 7u, 64u, 99u, 100u, 101u, 300u, 301u, 612u, 613u}) {
    auto size = dimensions_of(613, 997, ThumbnailSpec{ThumbFit::kWidth, w});
    auto out = thumb(original, *size, ImageFormat::kPng);
    VImage image = decode(out.bytes);
    cr_expect_eq(image.width(), int(size->width), "width %u", w);
    cr_expect_eq(image.height(), int(size->height), "width %u: height %d, expected %u", w,
                 image.height(), size->height);
  }
}

Test(image, orientation_1_is_upright) { expect_upright(1, kTopLeft, kTopRight); }
Test(image, orientation_2_is_upright) { expect_upright(2, kTopRight, kTopLeft); }
Test(image, orientation_3_is_upright) { expect_upright(3, kBottomRight, kBottomLeft); }
Test(image, orientation_4_is_upright) { expect_upright(4, kBottomLeft, kBottomRight); }
Test(image, orientation_5_is_upright) { expect_upright(5, kTopLeft, kBottomLeft); }
Test(image, orientation_6_is_upright) { expect_upright(6, kBottomLeft, kTopLeft); }
Test(image, orientation_7_is_upright) { expect_upright(7, kBottomRight, kTopRight); }
Test(image, orientation_8_is_upright) { expect_upright(8, kTopRight, kBottomRight); }

Test(image, thumbnail_strips_exif_and_gps) {
  Bytes original = photo("colorful-cups-2560x1600.jpg");
  cr_assert(has_field_containing(decode(original), "GPS"), "the test photo should carry GPS");
  for (ImageFormat format : {ImageFormat::kJpeg, ImageFormat::kWebp, ImageFormat::kAvif,
                             ImageFormat::kPng, ImageFormat::kGif}) {
    VImage image = decode(thumb(original, Dimensions{100, 62}, format).bytes);
    cr_expect_not(has_field_containing(image, "exif"), "format %d kept EXIF", int(format));
    cr_expect_not(has_field_containing(image, "GPS"), "format %d kept GPS", int(format));
    cr_expect_not(has_field_containing(image, "xmp"), "format %d kept XMP", int(format));
    cr_expect_not(has_field_containing(image, "icc"), "format %d kept an ICC profile", int(format));
  }
}

Test(image, thumbnail_flattens_alpha_onto_white_for_jpeg) {
  // Left half opaque green, right half fully transparent.
  VImage rgb =
      VImage::black(100, 50, VImage::option()->set("bands", 3)) + std::vector<double>{0, 200, 0};
  VImage alpha = VImage::black(50, 50)
                     .join(VImage::black(50, 50) + 255, VIPS_DIRECTION_HORIZONTAL)
                     .flip(VIPS_DIRECTION_HORIZONTAL);
  VImage rgba = rgb.bandjoin(alpha)
                    .cast(VIPS_FORMAT_UCHAR)
                    .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
  auto out = thumb(encode(rgba, ".png"), Dimensions{50, 25}, ImageFormat::kJpeg);
  VImage image = decode_rgb(out.bytes);
  cr_expect_eq(image.bands(), 3);
  std::vector<double> clear = image.getpoint(45, 12);
  for (double v : clear) cr_expect(v > 245, "transparent area should be white, got %g", v);
  std::vector<double> opaque = image.getpoint(5, 12);
  cr_expect(opaque[1] > 150 && opaque[0] < 60, "opaque area should stay green");
}

Test(image, thumbnail_keeps_alpha_for_png) {
  auto out = thumb(make_image(80, 40, ".png", true), Dimensions{40, 20}, ImageFormat::kPng);
  cr_expect_eq(decode(out.bytes).bands(), 4);
}

Test(image, thumbnail_of_16_bit_png_is_8_bit_srgb) {
  VImage rgb16 = (decode_rgb(make_image(80, 40, ".png")).cast(VIPS_FORMAT_USHORT) * 256)
                     .cast(VIPS_FORMAT_USHORT)
                     .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_RGB16));
  Bytes png16 = encode(rgb16, ".png");
  cr_assert_eq(decode(png16).format(), VIPS_FORMAT_USHORT);
  VImage image = decode(thumb(png16, Dimensions{40, 20}, ImageFormat::kPng).bytes);
  cr_expect_eq(image.format(), VIPS_FORMAT_UCHAR);
  cr_expect_eq(image.bands(), 3);
  cr_expect(image.getpoint(39, 0)[0] > 200, "the gradient should survive as 8 bits");
}

Test(image, thumbnail_of_greyscale_is_srgb) {
  Bytes grey =
      encode(decode_rgb(make_image(80, 40, ".png")).colourspace(VIPS_INTERPRETATION_B_W), ".jpg");
  cr_assert_eq(decode(grey).bands(), 1);
  VImage image = decode(thumb(grey, Dimensions{40, 20}, ImageFormat::kPng).bytes);
  cr_expect_eq(image.format(), VIPS_FORMAT_UCHAR);
  cr_expect_eq(image.bands(), 3);
}

Test(image, thumbnail_of_cmyk_jpeg_is_srgb) {
  Bytes cmyk =
      encode(decode_rgb(make_image(80, 40, ".png")).colourspace(VIPS_INTERPRETATION_CMYK), ".jpg");
  cr_assert_eq(decode(cmyk).bands(), 4);
  cr_assert_eq(decode(cmyk).interpretation(), VIPS_INTERPRETATION_CMYK);
  VImage image = decode(thumb(cmyk, Dimensions{40, 20}, ImageFormat::kJpeg).bytes);
  cr_expect_eq(image.format(), VIPS_FORMAT_UCHAR);
  cr_expect_eq(image.bands(), 3);
  cr_expect_eq(image.interpretation(), VIPS_INTERPRETATION_sRGB);
  std::vector<double> right = image.getpoint(39, 0);
  cr_expect(right[0] > 150, "red should survive CMYK: %g %g %g", right[0], right[1], right[2]);
}

static void expect_output_format(ImageFormat format, const char* loader) {
  auto out = thumb(make_image(160, 90, ".png", true), Dimensions{64, 36}, format);
  cr_expect_eq(loader_of(out.bytes).rfind(loader, 0), 0u, "loader %s, expected %s",
               loader_of(out.bytes).c_str(), loader);
  VImage image = decode(out.bytes);
  cr_expect_eq(image.width(), 64);
  cr_expect_eq(image.height(), 36);
  if (format == ImageFormat::kAvif) {
    cr_expect_str_eq(image.get_string("heif-compression"), "av1");
  }
}

Test(image, thumbnail_encodes_jpeg) {
  expect_output_format(ImageFormat::kJpeg, "VipsForeignLoadJpeg");
}
Test(image, thumbnail_encodes_png) {
  expect_output_format(ImageFormat::kPng, "VipsForeignLoadPng");
}
Test(image, thumbnail_encodes_webp) {
  expect_output_format(ImageFormat::kWebp, "VipsForeignLoadWebp");
}
Test(image, thumbnail_encodes_gif) {
  expect_output_format(ImageFormat::kGif, "VipsForeignLoadNsgif");
}
Test(image, thumbnail_encodes_avif) {
  expect_output_format(ImageFormat::kAvif, "VipsForeignLoadHeif");
}

Test(image, thumbnail_from_heic_and_avif_originals) {
  for (const char* suffix : {".heic", ".avif"}) {
    auto out = thumb(make_image(120, 80, suffix), Dimensions{60, 40}, ImageFormat::kJpeg);
    VImage image = decode(out.bytes);
    cr_expect_eq(image.width(), 60);
    cr_expect_eq(image.format(), VIPS_FORMAT_UCHAR);
  }
}

// A 12-bit AVIF decodes to 16 bits: the thumbnail must scale it to 8, not
// clip or darken it.
Test(image, thumbnail_of_12_bit_avif_is_8_bit) {
  Bytes avif12 = encode(decode_rgb(make_image(120, 80, ".png")), ".avif[bitdepth=12]");
  cr_assert_eq(decode(avif12).format(), VIPS_FORMAT_USHORT);
  VImage image = decode(thumb(avif12, Dimensions{60, 40}, ImageFormat::kJpeg).bytes);
  cr_expect_eq(image.format(), VIPS_FORMAT_UCHAR);
  std::vector<double> right = image.getpoint(59, 0);
  cr_expect(right[0] > 200 && right[2] > 40 && right[2] < 90, "%g %g %g", right[0], right[1],
            right[2]);
}

Test(image, thumbnail_of_garbage_is_io_error) {
  std::string_view text = "definitely not an image";
  auto out = iafs::make_thumbnail(Bytes(text.begin(), text.end()), iafs::resize_plan(Dimensions{10, 10}),
                                  ImageFormat::kJpeg, 80);
  cr_assert_not(out.ok());
  cr_expect_eq(out.error().code, ErrorCode::kIo);
  cr_expect_not(out.error().message.empty());
}

Test(image, thumbnail_refuses_heic_output) {
  auto out =
      iafs::make_thumbnail(make_image(40, 30, ".jpg"), iafs::resize_plan(Dimensions{20, 15}), ImageFormat::kHeif, 80);
  cr_assert_not(out.ok());
  cr_expect_eq(out.error().code, ErrorCode::kIo);
}

Test(image, thumbnails_are_made_concurrently) {
  Bytes original = make_image(640, 480, ".jpg", false, 6);
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto size = dimensions_of(480, 640, ThumbnailSpec{ThumbFit::kWidth, uint32_t(50 + i)});
      auto out = iafs::make_thumbnail(original, iafs::resize_plan(*size), ImageFormat::kWebp, 70);
      auto info = iafs::probe_original(original, ImageFormat::kJpeg, all_formats());
      ok[i] = out.ok() && out->width == size->width && info.ok() && info->width == 480;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) cr_expect(ok[i], "thread %d failed", i);
}

Test(image, init_is_idempotent) {
  cr_expect(iafs::image_init("again").ok());
  cr_expect(iafs::image_init("again").ok());
  expect_probe(make_image(20, 10, ".png"), ImageFormat::kPng, 20, 10);
}

// A smart crop reads the scaled image twice (to choose, then to cut): from
// the sequential load of the original that was a libvips error (EIO).
Test(image, smart_crops_are_made) {
  Bytes original = make_image(800, 400, ".jpg");
  for (iafs::Crop crop : {iafs::Crop::kAttention, iafs::Crop::kEntropy}) {
    iafs::ThumbnailPlan plan{Dimensions{100, 100}, Dimensions{200, 100}, crop, {}};
    auto out = iafs::make_thumbnail(original, plan, ImageFormat::kPng, 80);
    cr_assert(out.ok(), "%s", out.ok() ? "" : out.error().message.c_str());
    cr_expect_eq(out->width, 100u);
    cr_expect_eq(out->height, 100u);
  }
}
