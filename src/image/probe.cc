// probe_original: validate and measure an uploaded original (DESIGN §2a, §4).
#include <string>
#include <vips/vips8>

#include "image/image.h"
#include "image/vips_util.h"

namespace iafs {
namespace {

using image_detail::format_name;
using vips::VImage;

std::string describe_loader(const char* loader_class) {
  std::string name(loader_class);
  constexpr std::string_view kPrefix = "VipsForeignLoad";
  constexpr std::string_view kSuffix = "Buffer";
  if (name.starts_with(kPrefix)) name.erase(0, kPrefix.size());
  if (name.ends_with(kSuffix)) name.erase(name.size() - kSuffix.size());
  return name;
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

bool same_family(ImageFormat a, ImageFormat b) {
  auto is_heif = [](ImageFormat f) { return f == ImageFormat::kAvif || f == ImageFormat::kHeif; };
  return a == b || (is_heif(a) && is_heif(b));
}

Error mismatch(ImageFormat found, ImageFormat expected) {
  return make_error(ErrorCode::kInvalid, std::string(format_name(found)) + " data in a " +
                                             format_name(expected) + " original");
}

// The header only: libvips' loaders are lazy, so no pixel is decoded here.
// Animated GIF and WebP load every frame (n=-1), so that the decode below
// checks them all and the pixel limit counts them all; HEIF loads its
// primary image only.
VImage load_header(std::span<const uint8_t> bytes, ImageFormat family) {
  auto* options = VImage::option()
                      ->set("access", VIPS_ACCESS_SEQUENTIAL)
                      ->set("fail_on", VIPS_FAIL_ON_TRUNCATED);
  if (family == ImageFormat::kGif || family == ImageFormat::kWebp) options->set("n", -1);
  return VImage::new_from_buffer(bytes.data(), bytes.size(), "", options);
}

Result<ImageInfo> probe_header_and_pixels(std::span<const uint8_t> bytes, ImageFormat expected,
                                          const OriginalLimits& limits) {
  const char* loader = vips_foreign_find_load_buffer(bytes.data(), bytes.size());
  if (loader == nullptr) {
    vips_error_clear();
    return make_error(ErrorCode::kInvalid,
                      std::string("not an image (expected ") + format_name(expected) + ")");
  }
  std::optional<ImageFormat> family = image_detail::format_of_loader(loader);
  if (!family) {
    return make_error(ErrorCode::kInvalid, describe_loader(loader) +
                                               " data, a format not accepted (expected " +
                                               format_name(expected) + ")");
  }
  if (!same_family(*family, expected)) return mismatch(*family, expected);

  VImage image = load_header(bytes, *family);
  ImageFormat format = *family;
  if (format == ImageFormat::kHeif) {
    Result<ImageFormat> flavour = heif_flavour(image);
    if (!flavour) return flavour.error();
    format = *flavour;
  }
  if (format != expected) return mismatch(format, expected);
  if (!limits.accepts(format)) {
    return make_error(ErrorCode::kInvalid,
                      std::string(format_name(format)) + " originals are not accepted here");
  }

  // Every frame that is loaded counts: width x (page height x frames).
  uint64_t pixels = uint64_t(image.width()) * uint64_t(image.height());
  if (pixels > limits.max_pixels) {
    return make_error(ErrorCode::kTooBig,
                      std::to_string(image.width()) + "x" + std::to_string(image.height()) +
                          " pixels, over the limit of " + std::to_string(limits.max_pixels));
  }

  try {
    (void)image.avg();  // one sequential pass over every pixel
  } catch (const vips::VError& e) {
    return make_error(ErrorCode::kInvalid, std::string("truncated or corrupt ") +
                                               format_name(format) +
                                               " data: " + image_detail::one_line(e.what()));
  }

  uint32_t width = image.width();
  uint32_t height = vips_image_get_page_height(image.get_image());
  if (vips_image_get_orientation_swap(image.get_image())) std::swap(width, height);
  return ImageInfo{format, width, height};
}

// libvips' errors (VError) as kInvalid.
Result<ImageInfo> probe_catching(std::span<const uint8_t> bytes, ImageFormat expected,
                                 const OriginalLimits& limits) {
  try {
    return probe_header_and_pixels(bytes, expected, limits);
  } catch (const vips::VError& e) {
    return make_error(ErrorCode::kInvalid, std::string("not a valid ") + format_name(expected) +
                                               " image: " + image_detail::one_line(e.what()));
  }
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
  Result<ImageInfo> info = probe_catching(bytes, expected, limits);
  // VError copies libvips' process-wide error buffer without clearing it:
  // left there, this upload's reason would open the next refusal's message.
  vips_error_clear();
  return info;
}

}  // namespace iafs
