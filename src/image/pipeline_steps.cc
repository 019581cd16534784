#include "image/pipeline_steps.h"

#include <vector>

#include "image/webp_metadata.h"

namespace iafs::image_detail {

using vips::VImage;

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

VImage flatten_onto_white(VImage image) {
  if (!image.has_alpha()) return image;
  return image.flatten(VImage::option()->set("background", std::vector<double>{255, 255, 255}));
}

VImage without_metadata(const VImage& image) {
  VImage bare = image.copy();
  char** fields = vips_image_get_fields(bare.get_image());
  for (char** field = fields; *field != nullptr; ++field) {
    vips_image_remove(bare.get_image(), *field);
  }
  g_strfreev(fields);
  return bare;
}

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

Result<std::vector<uint8_t>> encoded_bytes(const BlobPtr& blob, ImageFormat format) {
  size_t length = 0;
  const auto* data = static_cast<const uint8_t*>(vips_blob_get(blob.get(), &length));
  std::vector<uint8_t> bytes(data, data + length);
  if (format == ImageFormat::kWebp && !strip_webp_metadata(bytes)) {
    return make_error(ErrorCode::kIo, "libvips wrote a malformed WebP");
  }
  return bytes;
}

}  // namespace iafs::image_detail
