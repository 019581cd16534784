// Fuzzes the upload probe (src/image/probe.cc). The first byte chooses the
// format the upload's name claims (byte % 6: '0' jpg, '1' png, '2' webp,
// '3' gif, '4' avif, '5' heic), the rest are the uploaded bytes. Whatever
// the bytes, probe_original returns a value (never throws), a kInvalid or
// kTooBig error with a message, or an image of the claimed format within the
// limits, and leaves libvips' process-wide error buffer empty.
#include <vips/vips.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "fuzz_check.h"
#include "image/image.h"

namespace {

constexpr iafs::ImageFormat kFormats[] = {
    iafs::ImageFormat::kJpeg, iafs::ImageFormat::kPng,  iafs::ImageFormat::kWebp,
    iafs::ImageFormat::kGif,  iafs::ImageFormat::kAvif, iafs::ImageFormat::kHeif,
};

// Small limits, so that no input makes libvips decode more than 4 MP.
iafs::OriginalLimits fuzz_limits() {
  iafs::OriginalLimits limits;
  limits.formats.assign(std::begin(kFormats), std::end(kFormats));
  limits.max_bytes = 1000 * 1000;
  limits.max_pixels = 4 * 1000 * 1000;
  return limits;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** argv) {
  if (!iafs::image_init((*argv)[0])) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const iafs::OriginalLimits limits = fuzz_limits();
  iafs::ImageFormat expected = kFormats[data[0] % std::size(kFormats)];
  std::span<const uint8_t> bytes(data + 1, size - 1);
  iafs::Result<iafs::ImageInfo> info = iafs::probe_original(bytes, expected, limits);
  if (info) {
    FUZZ_CHECK(info->format == expected);
    FUZZ_CHECK(info->width >= 1 && info->height >= 1);
    FUZZ_CHECK(uint64_t{info->width} * info->height <= limits.max_pixels);
  } else {
    FUZZ_CHECK(info.error().code == iafs::ErrorCode::kInvalid ||
               info.error().code == iafs::ErrorCode::kTooBig);
    FUZZ_CHECK(!info.error().message.empty());
  }
  FUZZ_CHECK(vips_error_buffer()[0] == '\0');
  return 0;
}
