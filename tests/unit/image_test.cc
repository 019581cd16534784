// Unit tests for src/image: probe_original, plan_thumbnail, the format
// table, corrupt data (make_thumbnail: thumbnail_test.cc).
#include "image/image.h"

#include <criterion/criterion.h>

#include "image_support.h"

TestSuite(image, .init = iafs::test::ensure_vips);

// --- probe_original -----------------------------------------------------

Test(image, probe_accepts_jpeg) {
  expect_probe(make_image(120, 80, ".jpg"), ImageFormat::kJpeg, 120, 80);
}
Test(image, probe_accepts_png) {
  expect_probe(make_image(120, 80, ".png"), ImageFormat::kPng, 120, 80);
}
Test(image, probe_accepts_webp) {
  expect_probe(make_image(120, 80, ".webp"), ImageFormat::kWebp, 120, 80);
}
Test(image, probe_accepts_gif) {
  expect_probe(make_image(120, 80, ".gif"), ImageFormat::kGif, 120, 80);
}
Test(image, probe_accepts_avif) {
  expect_probe(make_image(120, 80, ".avif"), ImageFormat::kAvif, 120, 80);
}
Test(image, probe_accepts_heic) {
  expect_probe(make_image(120, 80, ".heic"), ImageFormat::kHeif, 120, 80);
}

Test(image, probe_measures_real_photo) {
  expect_probe(photo("colorful-cups-2560x1600.jpg"), ImageFormat::kJpeg, 2560, 1600);
}

Test(image, probe_refuses_png_bytes_named_jpg) {
  expect_refused(make_image(40, 30, ".png"), ImageFormat::kJpeg, ErrorCode::kInvalid);
  auto info = iafs::probe_original(make_image(40, 30, ".png"), ImageFormat::kJpeg, all_formats());
  cr_expect(info.error().message.find("PNG") != std::string::npos, "%s",
            info.error().message.c_str());
}

Test(image, probe_refuses_avif_bytes_named_heic) {
  expect_refused(make_image(40, 30, ".avif"), ImageFormat::kHeif, ErrorCode::kInvalid);
  expect_refused(make_image(40, 30, ".heic"), ImageFormat::kAvif, ErrorCode::kInvalid);
}

Test(image, probe_refuses_truncated_jpeg) {
  Bytes jpeg = photo("rocket.jpg");
  jpeg.resize(jpeg.size() / 2);
  expect_refused(jpeg, ImageFormat::kJpeg, ErrorCode::kInvalid);
}

Test(image, probe_refuses_truncated_png) {
  Bytes png = photo("chelsea.png");
  png.resize(png.size() / 2);
  expect_refused(png, ImageFormat::kPng, ErrorCode::kInvalid);
}

// Found by tests/fuzz/probe.cc (corpus/probe/png-truncated): a refused probe
// left its reason in libvips' process-wide error buffer, so the next refusal's
// message carried the previous upload's reason too.
Test(image, probe_refusal_leaves_no_libvips_error_behind) {
  Bytes png = make_image(64, 64, ".png");
  png.resize(png.size() / 2);
  expect_refused(png, ImageFormat::kPng, ErrorCode::kInvalid);
  cr_expect_str_empty(vips_error_buffer());
  Bytes jpeg = make_image(64, 64, ".jpg");
  jpeg.resize(jpeg.size() / 2);
  auto info = iafs::probe_original(jpeg, ImageFormat::kJpeg, all_formats());
  cr_assert(!info.ok());
  cr_expect(info.error().message.find("png") == std::string::npos, "message: %s",
            info.error().message.c_str());
  cr_expect_str_empty(vips_error_buffer());
}

Test(image, probe_refuses_empty_bytes) {
  expect_refused({}, ImageFormat::kJpeg, ErrorCode::kInvalid);
}

Test(image, probe_refuses_text) {
  std::string_view text = "hello, this is not an image\n";
  expect_refused(Bytes(text.begin(), text.end()), ImageFormat::kPng, ErrorCode::kInvalid);
}

Test(image, probe_refuses_over_max_bytes) {
  Bytes jpeg = make_image(64, 64, ".jpg");
  iafs::OriginalLimits limits = all_formats();
  limits.max_bytes = jpeg.size() - 1;
  expect_refused(jpeg, ImageFormat::kJpeg, ErrorCode::kTooBig, limits);
  limits.max_bytes = jpeg.size();
  cr_expect(iafs::probe_original(jpeg, ImageFormat::kJpeg, limits).ok());
}

Test(image, probe_refuses_over_max_pixels) {
  Bytes png = make_image(200, 100, ".png");
  iafs::OriginalLimits limits = all_formats();
  limits.max_pixels = 200 * 100 - 1;
  expect_refused(png, ImageFormat::kPng, ErrorCode::kTooBig, limits);
  limits.max_pixels = 200 * 100;
  cr_expect(iafs::probe_original(png, ImageFormat::kPng, limits).ok());
}

Test(image, probe_refuses_decompression_bomb_quickly) {
  Bytes bomb = png_claiming(50000, 50000);
  auto start = std::chrono::steady_clock::now();
  expect_refused(bomb, ImageFormat::kPng, ErrorCode::kTooBig);
  auto elapsed = std::chrono::steady_clock::now() - start;
  cr_expect(elapsed < std::chrono::milliseconds(500));
}

Test(image, probe_reports_size_after_orientation) {
  expect_probe(make_image(200, 100, ".jpg", false, 6), ImageFormat::kJpeg, 100, 200);
  expect_probe(make_image(200, 100, ".jpg", false, 3), ImageFormat::kJpeg, 200, 100);
}

Test(image, probe_refuses_format_not_in_limits) {
  iafs::OriginalLimits limits;
  limits.formats = {ImageFormat::kPng};
  expect_refused(make_image(40, 30, ".jpg"), ImageFormat::kJpeg, ErrorCode::kInvalid, limits);
}

Test(image, probe_refuses_blocked_loaders) {
  VImage rgb = decode_rgb(make_image(40, 30, ".png"));
  expect_refused(encode(rgb, ".tif"), ImageFormat::kJpeg, ErrorCode::kInvalid);
  expect_refused(encode(rgb, ".ppm"), ImageFormat::kPng, ErrorCode::kInvalid);
  std::string_view svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>";
  expect_refused(Bytes(svg.begin(), svg.end()), ImageFormat::kPng, ErrorCode::kInvalid);
}

Test(image, blocked_loaders_fail_inside_libvips_too) {
  Bytes tiff = encode(decode_rgb(make_image(40, 30, ".png")), ".tif");
  bool threw = false;
  try {
    (void)decode(tiff).avg();
  } catch (const vips::VError&) {
    threw = true;
  }
  cr_expect(threw, "tiffload_buffer should be blocked");
  auto out = iafs::make_thumbnail(tiff, iafs::resize_plan(Dimensions{20, 15}), ImageFormat::kJpeg, 80);
  cr_expect_not(out.ok());
}

Test(image, probe_measures_first_frame_of_animated_gif) {
  VImage red =
      VImage::black(40, 30, VImage::option()->set("bands", 3)) + std::vector<double>{255, 0, 0};
  VImage blue =
      VImage::black(40, 30, VImage::option()->set("bands", 3)) + std::vector<double>{0, 0, 255};
  VImage strip = red.join(blue, VIPS_DIRECTION_VERTICAL)
                     .cast(VIPS_FORMAT_UCHAR)
                     .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
  strip.set("page-height", 30);
  Bytes gif = encode(strip, ".gif");
  expect_probe(gif, ImageFormat::kGif, 40, 30);
  iafs::OriginalLimits limits = all_formats();
  limits.max_pixels = 40 * 30;  // both frames count
  expect_refused(gif, ImageFormat::kGif, ErrorCode::kTooBig, limits);

  auto out = thumb(gif, Dimensions{20, 15}, ImageFormat::kPng);
  VImage first = decode_rgb(out.bytes);
  cr_expect_eq(first.width(), 20);
  cr_expect_eq(first.height(), 15);
  std::vector<double> p = first.getpoint(10, 10);
  cr_expect(p[0] > 200 && p[2] < 50, "first frame should be red: %g %g %g", p[0], p[1], p[2]);
}

// --- plan_thumbnail -------------------------------------------------------

Test(image, dimensions_by_width_round_down) {
  auto size = dimensions_of(2560, 1600, ThumbnailSpec{ThumbFit::kWidth, 300});
  cr_assert(size.has_value());
  cr_expect_eq(size->width, 300u);
  cr_expect_eq(size->height, 187u);
}

Test(image, dimensions_by_height) {
  auto size = dimensions_of(2560, 1600, ThumbnailSpec{ThumbFit::kHeight, 0, 100});
  cr_assert(size.has_value());
  cr_expect_eq(size->width, 160u);
  cr_expect_eq(size->height, 100u);
}

Test(image, dimensions_never_below_one_pixel) {
  auto size = dimensions_of(10000, 10, ThumbnailSpec{ThumbFit::kWidth, 5});
  cr_assert(size.has_value());
  cr_expect_eq(size->width, 5u);
  cr_expect_eq(size->height, 1u);
  size = dimensions_of(10, 10000, ThumbnailSpec{ThumbFit::kHeight, 0, 5});
  cr_assert(size.has_value());
  cr_expect_eq(size->width, 1u);
}

Test(image, dimensions_refuse_larger_than_original) {
  cr_expect_not(dimensions_of(2560, 1600, ThumbnailSpec{ThumbFit::kWidth, 2561}).has_value());
  cr_expect_not(dimensions_of(2560, 1600, ThumbnailSpec{ThumbFit::kHeight, 0, 1601}).has_value());
}

Test(image, dimensions_equal_to_original_is_full_size) {
  auto size = dimensions_of(2560, 1600, ThumbnailSpec{ThumbFit::kWidth, 2560});
  cr_assert(size.has_value());
  cr_expect_eq(size->height, 1600u);
  size = dimensions_of(2560, 1600, ThumbnailSpec{ThumbFit::kHeight, 0, 1600});
  cr_assert(size.has_value());
  cr_expect_eq(size->width, 2560u);
}

Test(image, dimensions_do_not_overflow) {
  auto size =
      dimensions_of(4000000000u, 3999999999u, ThumbnailSpec{ThumbFit::kWidth, 4000000000u});
  cr_assert(size.has_value());
  cr_expect_eq(size->height, 3999999999u);
}

// --- the format table -------------------------------------------------------

Test(image, format_table_builds_the_extension_lists) {
  cr_expect_eq(iafs::original_extension_list(), "jpg, jpeg, png, webp, gif, avif, heic or heif");
  cr_expect_eq(iafs::thumbnail_extension_list(), "jpg, png, webp, gif or avif");
  cr_expect_eq(iafs::display_name(ImageFormat::kWebp), "WebP");
  cr_expect_eq(iafs::display_name(ImageFormat::kHeif), "HEIC");
}

Test(image, every_format_in_the_table_has_an_allowed_loader) {
  for (const iafs::FormatInfo& info : iafs::all_formats()) {
    ImageFormat family = iafs::image_detail::loader_family(info.format);
    bool found = std::any_of(std::begin(iafs::image_detail::kAllowedLoaders),
                             std::end(iafs::image_detail::kAllowedLoaders),
                             [&](const auto& loader) { return loader.family == family; });
    cr_expect(found, "no loader for %s", std::string(info.display_name).c_str());
    cr_expect_eq(iafs::format_from_extension(info.extension), info.format);
  }
}

// --- corrupt data -------------------------------------------------------------

Test(image, probe_refuses_jpeg_whose_sof_claims_more_than_its_data) {
  Bytes jpeg = iafs::test::jpeg_claiming(make_image(640, 427, ".jpg"), 7000, 7000);
  cr_assert_not(jpeg.empty());
  expect_refused(jpeg, ImageFormat::kJpeg, ErrorCode::kInvalid);
}

Test(image, probe_refuses_gif_frame_holding_one_pixel_of_data) {
  Bytes gif = iafs::test::gif_with_one_pixel_of_data(2000, 2000);
  expect_refused(gif, ImageFormat::kGif, ErrorCode::kInvalid);
  auto info = iafs::probe_original(gif, ImageFormat::kGif, all_formats());
  cr_expect(info.error().message.find("2000x2000") != std::string::npos, "%s",
            info.error().message.c_str());
}

Test(image, probe_accepts_gif_frame_holding_all_its_data) {
  expect_probe(iafs::test::gif_with_one_pixel_of_data(1, 1), ImageFormat::kGif, 1, 1);
}

namespace {

// Every regular file of `dir` whose name ends in one of `suffixes`.
std::vector<std::string> files_in(const std::string& dir, std::vector<std::string> suffixes) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* entry = readdir(d)) {
    std::string name = entry->d_name;
    for (const auto& suffix : suffixes) {
      if (name.ends_with(suffix)) out.push_back(dir + "/" + name);
    }
  }
  closedir(d);
  return out;
}

void expect_all_accepted(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    Bytes bytes = read_file(path);
    auto format = iafs::format_from_extension(path.substr(path.rfind('.') + 1));
    cr_assert(format.has_value(), "%s", path.c_str());
    auto info = iafs::probe_original(bytes, *format, all_formats());
    cr_expect(info.ok(), "%s refused: %s", path.c_str(),
              info.ok() ? "" : info.error().message.c_str());
  }
}

}  // namespace

Test(image, probe_accepts_every_testdata_photo) {
  if (testdata("rocket.jpg").empty()) cr_skip_test("../shared/testdata is absent");
  std::string dir = testdata("rocket.jpg").substr(0, testdata("rocket.jpg").rfind('/'));
  std::vector<std::string> photos = files_in(dir, {".jpg", ".png", ".webp"});
  cr_assert_geq(photos.size(), 10u);
  expect_all_accepted(photos);
}

// The demo's wallpapers (Debian's lomiri-wallpapers-20.04).
Test(image, probe_accepts_every_lomiri_wallpaper) {
  std::vector<std::string> wallpapers;
  for (const char* name :
       {"Fossa_by_Jasper_Roks.jpg", "Infinite-Sea_by_Aury88.jpg", "Kleiber_by_Lukas_Baubkus.jpg",
        "Painting-Colors_by__herobrine7gamer.jpg"}) {
    std::string path = std::string("/usr/share/backgrounds/") + name;
    if (access(path.c_str(), R_OK) == 0) wallpapers.push_back(path);
  }
  if (wallpapers.empty()) cr_skip_test("lomiri-wallpapers-20.04 is not installed");
  expect_all_accepted(wallpapers);
}

// --- header bombs ---------------------------------------------------------------

void expect_too_big_claiming(const Bytes& bytes, ImageFormat format, const char* size,
                             const iafs::OriginalLimits& limits = all_formats()) {
  auto info = iafs::probe_original(bytes, format, limits);
  cr_assert_not(info.ok(), "accepted a %s bomb", size);
  cr_expect_eq(info.error().code, ErrorCode::kTooBig, "%s", info.error().message.c_str());
  cr_expect(info.error().message.find(size) != std::string::npos, "%s",
            info.error().message.c_str());
}

Test(image, png_of_1_by_100000000_is_too_big) {
  expect_too_big_claiming(png_claiming(1, 100000000), ImageFormat::kPng, "1x100000000");
}

Test(image, png_past_libvips_side_limit_is_too_big_even_under_max_pixels) {
  iafs::OriginalLimits limits = all_formats();
  limits.max_pixels = 1000000000;
  expect_too_big_claiming(png_claiming(1, 100000000), ImageFormat::kPng, "1x100000000", limits);
}

Test(image, webp_of_16383_squared_is_too_big) {
  Bytes webp = iafs::test::webp_claiming(16383, 16383);
  cr_assert_not(webp.empty());
  expect_too_big_claiming(webp, ImageFormat::kWebp, "16383x16383");
}

Test(image, avif_whose_ispe_claims_60000_squared_is_too_big) {
  expect_too_big_claiming(iafs::test::avif_claiming(60000, 60000), ImageFormat::kAvif,
                          "60000x60000");
}

Test(image, jpeg_whose_sof_claims_65000_squared_is_too_big) {
  expect_too_big_claiming(iafs::test::jpeg_claiming(make_image(64, 64, ".jpg"), 65000, 65000),
                          ImageFormat::kJpeg, "65000x65000");
}

Test(image, gif_whose_frame_claims_60000_squared_is_too_big) {
  expect_too_big_claiming(iafs::test::gif_with_one_pixel_of_data(60000, 60000), ImageFormat::kGif,
                          "60000x60000");
}

// HEIF is decoded whole (~7 bytes a pixel): over 25 MP it is refused from the header.
Test(image, avif_over_its_decode_limit_is_too_big) {
  iafs::OriginalLimits limits = all_formats();
  expect_too_big_claiming(iafs::test::avif_claiming(6000, 5000), ImageFormat::kAvif, "6000x5000",
                          limits);
}

// --- memory ----------------------------------------------------------------------

namespace {

// The process's peak resident set (VmHWM) in kB, or -1.
long peak_rss_kb() {
  FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return -1;
  char line[256];
  long kb = -1;
  while (std::fgets(line, sizeof line, status)) {
    if (std::sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
  }
  std::fclose(status);
  return kb;
}

// Resets the peak resident set to the current one (Linux: clear_refs 5).
bool reset_peak_rss() {
  FILE* clear = std::fopen("/proc/self/clear_refs", "w");
  if (clear == nullptr) return false;
  bool ok = std::fputs("5", clear) >= 0;
  return std::fclose(clear) == 0 && ok;
}

}  // namespace

// A flat 7000x7000 lossy WebP (87 KB, 49 MP) took 375 MB to validate when
// libvips decoded it whole. Measured in this test's own process (Criterion
// runs each test in one; forking a process with libvips' threads running
// would hang the child), with the peak reset after the WebP is made.
Test(image, probe_of_49_mp_webp_raises_peak_rss_by_under_100_mb) {
  VImage flat = VImage::black(7000, 7000, VImage::option()->set("bands", 3))
                    .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
  Bytes webp = encode(flat, ".webp[Q=80]");
  if (!reset_peak_rss()) cr_skip_test("/proc/self/clear_refs is not writable");
  long before = peak_rss_kb();
  auto info = iafs::probe_original(webp, ImageFormat::kWebp, all_formats());
  long grew_kb = peak_rss_kb() - before;
  cr_assert(info.ok(), "%s", info.ok() ? "" : info.error().message.c_str());
  cr_assert(before > 0);
  cr_log_info("probe of a 49 MP WebP: +%ld MB", grew_kb / 1024);
  cr_expect_lt(grew_kb, 100 * 1024, "probe raised the peak RSS by %ld MB", grew_kb / 1024);
}

// --- messages carry only their own request's error -------------------------------

namespace {

bool mentions(std::string text, const char* word) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text.find(word) != std::string::npos;
}

}  // namespace

Test(image, concurrent_refusals_mention_only_their_own_problem) {
  Bytes jpeg = make_image(300, 200, ".jpg");
  jpeg.resize(jpeg.size() / 2);
  Bytes png = make_image(300, 200, ".png");
  png.resize(png.size() / 2);
  std::vector<std::string> jpeg_messages, png_messages;
  auto probe_many = [](const Bytes& bytes, ImageFormat format, std::vector<std::string>& out) {
    for (int i = 0; i < 20; ++i) {
      auto info = iafs::probe_original(bytes, format, all_formats());
      out.push_back(info.ok() ? "accepted" : info.error().message);
    }
  };
  std::thread a(probe_many, std::cref(jpeg), ImageFormat::kJpeg, std::ref(jpeg_messages));
  std::thread b(probe_many, std::cref(png), ImageFormat::kPng, std::ref(png_messages));
  a.join();
  b.join();
  for (const std::string& m : jpeg_messages) {
    cr_expect(mentions(m, "jpeg") && !mentions(m, "png") && !mentions(m, "; "), "%s", m.c_str());
  }
  for (const std::string& m : png_messages) {
    cr_expect(mentions(m, "png") && !mentions(m, "jpeg") && !mentions(m, "; "), "%s", m.c_str());
  }
}
