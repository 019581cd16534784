// probe_original must refuse a damaged JPEG exactly when a full-size decode
// that fails on any libjpeg warning refuses it: a guard for any faster
// validation decode. (Decoding at 1/8 or 1/2 scale through libvips, 5x
// faster, failed it: damage in the last rows of the scan went unseen.)
#include <criterion/criterion.h>

#include <random>

#include "image_support.h"

TestSuite(probe_damage, .init = iafs::test::ensure_vips);

namespace {

// Whether a full-size, every-pixel decode fails.
bool full_decode_fails(const Bytes& jpeg) {
  try {
    VImage image = VImage::new_from_buffer(
        jpeg.data(), jpeg.size(), "",
        VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL)->set("fail_on", VIPS_FAIL_ON_WARNING));
    (void)image.avg();
    return false;
  } catch (const vips::VError&) {
    vips_error_clear();
    return true;
  }
}

bool probe_refuses(const Bytes& jpeg) {
  return !iafs::probe_original(jpeg, ImageFormat::kJpeg, all_formats()).ok();
}

// Where the entropy-coded data of the first scan starts (after SOS).
size_t scan_start(const Bytes& jpeg) {
  for (size_t i = 2; i + 3 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA) return i + 2 + (jpeg[i + 2] << 8 | jpeg[i + 3]);
  }
  cr_assert_fail("no SOS marker");
  return 0;
}

void expect_same_verdicts(const Bytes& jpeg, const char* what) {
  size_t start = scan_start(jpeg), end = jpeg.size() - 2;  // before EOI
  std::mt19937 random(12345);
  int refused = 0, cases = 0;
  for (int n = 0; n < 24; ++n) {
    size_t at = start + (end - start) * n / 24;
    Bytes noisy = jpeg;  // 48 random bytes written over the scan
    for (size_t i = at; i < std::min(end, at + 48); ++i) noisy[i] = uint8_t(random());
    Bytes cut = jpeg;  // an EOI marker in the middle of the scan
    cut.insert(cut.begin() + static_cast<ptrdiff_t>(at), {0xFF, 0xD9});
    Bytes dropped = jpeg;  // 200 bytes of the scan missing
    dropped.erase(dropped.begin() + static_cast<ptrdiff_t>(at),
                  dropped.begin() + static_cast<ptrdiff_t>(std::min(end, at + 200)));
    for (const Bytes* damaged : {&noisy, &cut, &dropped}) {
      bool full = full_decode_fails(*damaged);
      cr_expect_eq(probe_refuses(*damaged), full, "%s: damage at %zu of %zu: full decode %s",
                   what, at, jpeg.size(), full ? "fails" : "passes");
      refused += full;
      ++cases;
    }
  }
  // The damage is real: many copies are refused by the full decode too
  // (libjpeg decodes much random data without a warning).
  cr_expect_gt(refused, cases / 4, "%s: only %d of %d damaged copies refused", what, refused,
               cases);
  cr_expect(!probe_refuses(jpeg), "%s: the undamaged JPEG is refused", what);
}

}  // namespace

Test(probe_damage, a_damaged_baseline_jpeg_is_refused_as_a_full_decode_refuses_it) {
  expect_same_verdicts(encode(decode(make_image(640, 427, ".jpg")), ".jpg[Q=90]"), "baseline");
}

Test(probe_damage, a_damaged_progressive_jpeg_is_refused_as_a_full_decode_refuses_it) {
  expect_same_verdicts(encode(decode(make_image(640, 427, ".jpg")), ".jpg[Q=90,interlace]"),
                       "progressive");
}

Test(probe_damage, a_damaged_subsampled_photo_is_refused_as_a_full_decode_refuses_it) {
  expect_same_verdicts(photo("rocket.jpg"), "rocket.jpg");
}
