// probe_original: validate and measure an uploaded original (DESIGN §2a, §4).
// Messages are built from what this request knows, never from libvips'
// process-wide error buffer (vips_errors.h).
#include <cmath>
#include <string>
#include <vips/vips8>

#include "image/decode_limits.h"
#include "image/gif_scan.h"
#include "image/header_size.h"
#include "image/image.h"
#include "image/loaders.h"
#include "image/vips_errors.h"

namespace iafs {
namespace {

using image_detail::ClaimedSize;
using image_detail::decode_limits;
using image_detail::discard_vips_errors;
using vips::VImage;

std::string name_of(ImageFormat format) { return std::string(display_name(format)); }

std::string size_text(uint64_t width, uint64_t height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

Error too_many_pixels(uint64_t width, uint64_t height, uint64_t limit, const char* what) {
  return make_error(ErrorCode::kTooBig, size_text(width, height) + " pixels" + what +
                                            ", over the limit of " + std::to_string(limit));
}

// AVIF and HEIC share libvips' heif loader; the header's compression tells
// them apart.
Result<ImageFormat> heif_flavour(const VImage& header) {
  if (header.get_typeof("heif-compression") != 0) {
    std::string_view compression = header.get_string("heif-compression");
    if (compression == "av1") return ImageFormat::kAvif;
    if (compression == "hevc") return ImageFormat::kHeif;
  }
  return make_error(ErrorCode::kInvalid, "HEIF data with a compression other than AV1 or HEVC");
}

Error mismatch(ImageFormat found, ImageFormat expected) {
  return make_error(ErrorCode::kInvalid,
                    name_of(found) + " data in a " + name_of(expected) + " original");
}

// What the full decode fails on: JPEG on any libjpeg warning ("Corrupt JPEG
// data: premature end of data segment" is only a warning: a SOF claiming more
// rows than the scan holds decoded as grey), the others on truncation.
VipsFailOn fail_on_for(ImageFormat family) {
  return family == ImageFormat::kJpeg ? VIPS_FAIL_ON_WARNING : VIPS_FAIL_ON_TRUNCATED;
}

// A lazy load: no pixel is decoded until the image is read. Animated GIF
// and WebP load every frame (n=-1), so that the decode checks them all and
// the pixel limit counts them all; HEIF loads its primary image only.
// `scale` (WebP only) shrinks each frame on load.
VImage load(std::span<const uint8_t> bytes, ImageFormat family, double scale = 1.0) {
  auto* options =
      VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL)->set("fail_on", fail_on_for(family));
  if (family == ImageFormat::kGif || family == ImageFormat::kWebp) options->set("n", -1);
  if (scale < 1.0) options->set("scale", scale);
  return VImage::new_from_buffer(bytes.data(), bytes.size(), "", options);
}

// The scale at which a WebP frame of `frame` pixels has at most
// kWebpValidationPixels.
double webp_validation_scale(uint64_t frame) {
  if (frame <= image_detail::kWebpValidationPixels) return 1.0;
  return std::sqrt(double(image_detail::kWebpValidationPixels) / double(frame));
}

// One pass over every pixel, in bounded memory: JPEG and PNG stream; WebP is
// decoded scaled down; GIF's LZW data is checked by our own scan, and by
// libnsgif too where its canvas is small enough; HEIF is decoded whole, and
// only up to its decode limit (checked before).
// `format` names the data in the message.
Status decode_every_pixel(std::span<const uint8_t> bytes, ImageFormat family, ImageFormat format,
                          const VImage& header) {
  uint64_t frame = uint64_t(header.width()) * vips_image_get_page_height(header.get_image());
  if (family == ImageFormat::kGif) {
    Result<image_detail::GifLayout> gif =
        image_detail::scan_gif(bytes, image_detail::GifCheck::kPixels);
    if (!gif) return gif.error();
    uint64_t bound = decode_limits(family).max_libvips_pixels;
    if (bound != 0 && frame > bound) return Status::Ok();
  }
  try {
    VImage image =
        family == ImageFormat::kWebp ? load(bytes, family, webp_validation_scale(frame)) : header;
    (void)image.avg();
  } catch (const vips::VError&) {
    discard_vips_errors();
    return make_error(ErrorCode::kInvalid,
                      "truncated or corrupt " + name_of(format) +
                          " data: the decoder found damaged or missing pixel data");
  }
  return Status::Ok();
}

// Refusals from the header bytes, before libvips reads them: over the
// schema's pixel limit, or (when libvips then cannot read the header) past
// the decoder's own limits. Both are too big, not invalid.
Status check_claimed_size(const std::optional<ClaimedSize>& claimed, const OriginalLimits& limits) {
  if (claimed && claimed->pixels() > limits.max_pixels) {
    return too_many_pixels(claimed->width, claimed->height, limits.max_pixels,
                           " (claimed by the header)");
  }
  return Status::Ok();
}

Error unreadable_header(const std::optional<ClaimedSize>& claimed, ImageFormat family,
                        ImageFormat expected) {
  uint32_t max_side = decode_limits(family).max_side;
  if (claimed && (claimed->width > max_side || claimed->height > max_side)) {
    return make_error(ErrorCode::kTooBig, size_text(claimed->width, claimed->height) +
                                              " pixels (claimed by the header): a side over the " +
                                              std::to_string(max_side) + " that the " +
                                              name_of(family) + " decoder reads");
  }
  return make_error(ErrorCode::kInvalid,
                    "not a valid " + name_of(expected) + " image: its header cannot be read");
}

Result<ImageInfo> probe_header_and_pixels(std::span<const uint8_t> bytes, ImageFormat expected,
                                          const OriginalLimits& limits) {
  const char* loader = vips_foreign_find_load_buffer(bytes.data(), bytes.size());
  if (loader == nullptr) {
    discard_vips_errors();
    return make_error(ErrorCode::kInvalid, "not an image (expected " + name_of(expected) + ")");
  }
  std::optional<ImageFormat> family = image_detail::family_of_loader(loader);
  if (!family) {
    return make_error(ErrorCode::kInvalid, image_detail::describe_loader(loader) +
                                               " data, a format not accepted (expected " +
                                               name_of(expected) + ")");
  }
  if (*family != image_detail::loader_family(expected)) return mismatch(*family, expected);

  std::optional<ClaimedSize> claimed = image_detail::claimed_size(bytes, *family);
  if (Status status = check_claimed_size(claimed, limits); !status) return status.error();

  VImage image;
  try {
    image = load(bytes, *family);
  } catch (const vips::VError&) {
    discard_vips_errors();
    return unreadable_header(claimed, *family, expected);
  }
  ImageFormat format = *family;
  if (format == ImageFormat::kHeif) {
    Result<ImageFormat> flavour = heif_flavour(image);
    if (!flavour) return flavour.error();
    format = *flavour;
  }
  if (format != expected) return mismatch(format, expected);
  if (!limits.accepts(format)) {
    return make_error(ErrorCode::kInvalid, name_of(format) + " originals are not accepted here");
  }

  // Every frame that is loaded counts: width x (page height x frames).
  uint64_t pixels = uint64_t(image.width()) * uint64_t(image.height());
  if (pixels > limits.max_pixels) {
    return too_many_pixels(image.width(), image.height(), limits.max_pixels, "");
  }
  uint64_t decodable = decode_limits(*family).max_decoded_pixels;
  if (decodable != 0 && pixels > decodable) {
    return make_error(ErrorCode::kTooBig, size_text(image.width(), image.height()) +
                                              " pixels: over the " + std::to_string(decodable) +
                                              " up to which " + name_of(format) +
                                              " (decoded whole) is validated in bounded memory");
  }
  if (Status status = decode_every_pixel(bytes, *family, format, image); !status) {
    return status.error();
  }

  uint32_t width = image.width();
  uint32_t height = vips_image_get_page_height(image.get_image());
  if (vips_image_get_orientation_swap(image.get_image())) std::swap(width, height);
  return ImageInfo{format, width, height};
}

}  // namespace

Result<ImageInfo> probe_original(std::span<const uint8_t> bytes, ImageFormat expected,
                                 const OriginalLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    return make_error(ErrorCode::kTooBig, std::to_string(bytes.size()) +
                                              " bytes, over the limit of " +
                                              std::to_string(limits.max_bytes));
  }
  if (bytes.empty()) return make_error(ErrorCode::kInvalid, "empty file");
  Result<ImageInfo> info = [&]() -> Result<ImageInfo> {
    try {
      return probe_header_and_pixels(bytes, expected, limits);
    } catch (const vips::VError&) {
      return make_error(ErrorCode::kInvalid, "not a valid " + name_of(expected) + " image");
    }
  }();
  // libvips' error buffer is process-wide: left there, this upload's reason
  // would open the next refusal's message (and the fuzzer checks it is empty).
  discard_vips_errors();
  return info;
}

}  // namespace iafs
