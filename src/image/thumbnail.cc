// make_thumbnail (DESIGN §2a): resize, crop, encode.
#include <algorithm>
#include <string>
#include <vector>
#include <vips/vips8>

#include "image/image.h"
#include "image/pipeline_steps.h"
#include "image/vips_errors.h"

namespace iafs {
namespace {

using image_detail::BlobPtr;
using image_detail::encode;
using image_detail::flatten_onto_white;
using image_detail::to_srgb8;
using image_detail::without_metadata;
using vips::VImage;

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

// The plan's `size` area of the scaled image.
VImage crop(VImage image, const ThumbnailPlan& plan) {
  if (plan.crop == Crop::kNone) return image;
  int width = int(plan.size.width), height = int(plan.size.height);
  if (plan.crop == Crop::kAttention || plan.crop == Crop::kEntropy) {
    // smartcrop reads the image more than once: the sequential load of
    // vips_thumbnail_buffer fails that ("out of order read"), so from memory.
    return image.copy_memory().smartcrop(
        width, height,
        VImage::option()->set("interesting", plan.crop == Crop::kAttention
                                                 ? VIPS_INTERESTING_ATTENTION
                                                 : VIPS_INTERESTING_ENTROPY));
  }
  // Centred on the focal point, moved inside the image where it must be.
  auto offset = [](uint32_t scaled, uint32_t side, uint32_t millionths) {
    int64_t centre = (int64_t{scaled} * millionths + 500000) / 1000000;
    return int(std::clamp<int64_t>(centre - side / 2, 0, int64_t{scaled} - side));
  };
  return image.extract_area(offset(plan.scaled.width, plan.size.width, plan.focus.x),
                            offset(plan.scaled.height, plan.size.height, plan.focus.y), width,
                            height);
}

// The encoded bytes, their metadata gone, read back: they must decode at
// exactly `size`.
Result<EncodedImage> finish(const BlobPtr& blob, ImageFormat format, Dimensions size) {
  auto encoded = image_detail::encoded_bytes(blob, format);
  if (!encoded.ok()) return encoded.error();
  std::vector<uint8_t> bytes = std::move(encoded).value();
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

Result<EncodedImage> make_thumbnail(std::span<const uint8_t> original, const ThumbnailPlan& plan,
                                    ImageFormat format, int quality) {
  Dimensions size = plan.size;
  if (!is_thumbnail_format(format)) {
    return make_error(ErrorCode::kIo,
                      std::string(display_name(format)) + " is not a thumbnail format");
  }
  try {
    VImage image = crop(to_srgb8(shrink(original, plan.scaled)), plan);
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
