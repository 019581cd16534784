// thumbnail_dimensions and make_thumbnail (DESIGN §2a).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>
#include <vips/vips8>

#include "image/image.h"
#include "image/vips_errors.h"
#include "image/webp_metadata.h"

namespace iafs {
namespace {

using vips::VImage;

struct BlobUnref {
  void operator()(VipsBlob* blob) const { vips_area_unref(VIPS_AREA(blob)); }
};
using BlobPtr = std::unique_ptr<VipsBlob, BlobUnref>;

// Shrink-on-load, EXIF orientation applied, first frame; size=FORCE so the
// result is exactly `size` (libvips would round the other side itself). The
// buffer is borrowed, not copied.
VImage shrink(std::span<const uint8_t> original, Dimensions size) {
  VipsImage* out = nullptr;
  if (vips_thumbnail_buffer(const_cast<uint8_t*>(original.data()), original.size(), &out,
                            int(size.width), "height", int(size.height), "size", VIPS_SIZE_FORCE,
                            nullptr) != 0) {
    throw vips::VError("thumbnail failed");
  }
  return VImage(out);  // steals the reference
}

// 8-bit sRGB, 3 bands (4 with alpha), whatever came in: CMYK, 16-bit,
// greyscale, 12-bit HEIF. vips_thumbnail has already imported any embedded
// ICC profile.
VImage to_srgb8(VImage image) {
  if (image.format() == VIPS_FORMAT_USHORT && image.interpretation() != VIPS_INTERPRETATION_RGB16 &&
      image.interpretation() != VIPS_INTERPRETATION_GREY16) {
    bool grey = image.bands() <= 2;
    image = image.copy(VImage::option()->set(
        "interpretation", grey ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_RGB16));
  }
  if (image.interpretation() != VIPS_INTERPRETATION_sRGB || image.bands() < 3) {
    image = image.colourspace(VIPS_INTERPRETATION_sRGB);
  }
  if (image.format() != VIPS_FORMAT_UCHAR) image = image.cast(VIPS_FORMAT_UCHAR);
  return image;
}

// libvips' default background is black; ours is white (DESIGN §2a).
VImage flatten_onto_white(VImage image) {
  if (!image.has_alpha()) return image;
  return image.flatten(VImage::option()->set("background", std::vector<double>{255, 255, 255}));
}

// Removes every metadata field (EXIF, GPS, XMP, IPTC, ICC, ...) from the
// image itself: libvips 8.14.1's webpsave ignores `strip` (it wrote the
// original's EXIF with GPS, and XMP; see also strip_webp_metadata). Header
// fields (width, bands, ...) are not metadata and stay.
VImage without_metadata(const VImage& image) {
  VImage bare = image.copy();
  char** fields = vips_image_get_fields(bare.get_image());
  for (char** field = fields; *field != nullptr; ++field) {
    vips_image_remove(bare.get_image(), *field);
  }
  g_strfreev(fields);
  return bare;
}

// Every saver is also told to strip (8.14's strip is all or nothing).
BlobPtr encode(const VImage& image, ImageFormat format, int quality) {
  auto* options = VImage::option()->set("strip", true);
  switch (format) {
    case ImageFormat::kJpeg:
      return BlobPtr(image.jpegsave_buffer(
          options->set("Q", quality)->set("optimize_coding", true)->set("interlace", false)));
    case ImageFormat::kPng:
      return BlobPtr(image.pngsave_buffer(options));
    case ImageFormat::kWebp:
      return BlobPtr(image.webpsave_buffer(options->set("Q", quality)));
    case ImageFormat::kGif:
      return BlobPtr(image.gifsave_buffer(options));
    case ImageFormat::kAvif:
      // AV1 encoding is slow: effort 2 of 9 (aom speed 7) keeps a thumbnail
      // under a second; 8 bits, as every browser decodes.
      return BlobPtr(
          image.heifsave_buffer(options->set("Q", quality)
                                    ->set("compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1)
                                    ->set("effort", 2)
                                    ->set("bitdepth", 8)));
    case ImageFormat::kHeif:
      break;
  }
  delete options;
  throw vips::VError("HEIC is not a thumbnail format");
}

// The encoded bytes, their metadata gone, read back: they must decode at
// exactly `size`.
Result<EncodedImage> finish(const BlobPtr& blob, ImageFormat format, Dimensions size) {
  size_t length = 0;
  const auto* data = static_cast<const uint8_t*>(vips_blob_get(blob.get(), &length));
  std::vector<uint8_t> bytes(data, data + length);
  if (format == ImageFormat::kWebp && !image_detail::strip_webp_metadata(bytes)) {
    return make_error(ErrorCode::kIo, "libvips wrote a malformed WebP");
  }
  VImage back = VImage::new_from_buffer(bytes.data(), bytes.size(), "");
  if (uint32_t(back.width()) != size.width || uint32_t(back.height()) != size.height) {
    return make_error(ErrorCode::kIo, "thumbnail came out " + std::to_string(back.width()) + "x" +
                                          std::to_string(back.height()) + ", not " +
                                          std::to_string(size.width) + "x" +
                                          std::to_string(size.height));
  }
  return EncodedImage{std::move(bytes), size.width, size.height};
}

}  // namespace

std::optional<Dimensions> thumbnail_dimensions(uint32_t width, uint32_t height,
                                               const ThumbnailSpec& spec) {
  if (width == 0 || height == 0 || spec.size == 0) return std::nullopt;
  uint64_t w = width, h = height, s = spec.size;
  if (spec.by_height) {
    if (s > h) return std::nullopt;
    return Dimensions{uint32_t(std::max<uint64_t>(1, w * s / h)), spec.size};
  }
  if (s > w) return std::nullopt;
  return Dimensions{spec.size, uint32_t(std::max<uint64_t>(1, h * s / w))};
}

Result<EncodedImage> make_thumbnail(std::span<const uint8_t> original, Dimensions size,
                                    ImageFormat format, int quality) {
  if (!is_thumbnail_format(format)) {
    return make_error(ErrorCode::kIo,
                      std::string(display_name(format)) + " is not a thumbnail format");
  }
  try {
    VImage image = to_srgb8(shrink(original, size));
    if (format == ImageFormat::kJpeg) image = flatten_onto_white(image);
    image = without_metadata(image);
    return finish(encode(image, format, std::clamp(quality, 1, 100)), format, size);
  } catch (const vips::VError&) {
    // e.what() may hold other threads' libvips errors: not for the message.
    image_detail::discard_vips_errors();
    return make_error(ErrorCode::kIo, "cannot make a " + std::to_string(size.width) + "x" +
                                          std::to_string(size.height) + " " +
                                          std::string(display_name(format)) +
                                          " thumbnail: libvips could not decode, convert or "
                                          "encode the original");
  }
}

}  // namespace iafs
