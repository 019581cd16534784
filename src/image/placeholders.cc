// make_placeholders: BlurHash, average colour and LQIP of an original.
#include "image/placeholders.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <utility>
#include <vips/vips8>

#include "image/blurhash.h"
#include "image/pipeline_steps.h"
#include "image/vips_errors.h"

namespace iafs {
namespace {

using vips::VImage;

constexpr int kBlurhashX = 4, kBlurhashY = 3;

struct GFree {
  void operator()(void* memory) const { g_free(memory); }
};

// The original at the preview's size: its header read for the displayed
// (oriented) size, then vips_thumbnail's shrink-on-load to exactly that size.
// The bytes are borrowed, not copied.
VImage preview(std::span<const uint8_t> original) {
  VImage header = VImage::new_from_buffer(original.data(), original.size(), "",
                                          VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL));
  uint32_t width = header.width(), height = header.height();
  if (vips_image_get_orientation_swap(header.get_image())) std::swap(width, height);
  auto plan = plan_thumbnail(width, height, ThumbnailSpec{ThumbFit::kLqip, 0, 0, ImageFormat::kWebp},
                             Enlarge::kClamp, std::nullopt);
  if (!plan) throw vips::VError("empty image");
  uint32_t w = plan->size.width, h = plan->size.height;
  VipsBlob* blob = vips_blob_new(nullptr, original.data(), original.size());
  image_detail::BlobPtr owner(blob);
  return VImage::thumbnail_buffer(
      blob, int(w), VImage::option()->set("height", int(h))->set("size", VIPS_SIZE_FORCE));
}

// 3 bands of 8-bit sRGB, row by row.
std::vector<uint8_t> rgb_pixels(const VImage& image) {
  size_t size = 0;
  std::unique_ptr<void, GFree> memory(image.write_to_memory(&size));
  const auto* bytes = static_cast<const uint8_t*>(memory.get());
  return std::vector<uint8_t>(bytes, bytes + size);
}

uint32_t mean_colour(const std::vector<uint8_t>& rgb) {
  uint64_t sum[3] = {0, 0, 0};
  for (size_t i = 0; i < rgb.size(); ++i) sum[i % 3] += rgb[i];
  uint64_t pixels = std::max<size_t>(1, rgb.size() / 3);
  uint32_t colour = 0;
  for (uint64_t channel : sum) colour = colour << 8 | uint32_t((channel + pixels / 2) / pixels);
  return colour;
}

Result<Placeholders> compute(std::span<const uint8_t> original) {
  VImage image = image_detail::flatten_onto_white(image_detail::to_srgb8(preview(original)));
  if (image.bands() > 3) image = image.extract_band(0, VImage::option()->set("n", 3));
  image = image_detail::without_metadata(image).copy_memory();
  if (image.bands() != 3) return make_error(ErrorCode::kIo, "the preview is not RGB");
  Placeholders out;
  out.lqip_width = image.width();
  out.lqip_height = image.height();
  std::vector<uint8_t> rgb = rgb_pixels(image);
  out.blurhash =
      image_detail::encode_blurhash(rgb, out.lqip_width, out.lqip_height, kBlurhashX, kBlurhashY);
  out.color = mean_colour(rgb);
  auto webp = image_detail::encoded_bytes(
      image_detail::encode(image, ImageFormat::kWebp, kLqipQuality), ImageFormat::kWebp);
  if (!webp.ok()) return webp.error();
  out.lqip = std::move(webp).value();
  return out;
}

}  // namespace

Result<Placeholders> make_placeholders(std::span<const uint8_t> original) {
  try {
    return compute(original);
  } catch (const vips::VError&) {
    // e.what() may hold other threads' libvips errors: not for the message.
    image_detail::discard_vips_errors();
    return make_error(ErrorCode::kIo,
                      "cannot make placeholders: libvips could not decode or convert the original");
  }
}

std::string color_hex(uint32_t color) {
  char text[8];
  std::snprintf(text, sizeof text, "#%06x", unsigned(color & 0xffffffu));
  return text;
}

}  // namespace iafs
