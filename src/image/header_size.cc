#include "image/header_size.h"

#include "image/byte_reader.h"
#include "image/gif_scan.h"

namespace iafs::image_detail {
namespace {

std::optional<ClaimedSize> png_size(std::span<const uint8_t> bytes) {
  if (!has_tag(bytes, 1, "PNG") || !has_tag(bytes, 12, "IHDR")) return std::nullopt;
  auto width = read_be(bytes, 16, 4);
  auto height = read_be(bytes, 20, 4);
  if (!width || !height) return std::nullopt;
  return ClaimedSize{*width, *height};
}

// SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC).
bool is_start_of_frame(uint8_t marker) {
  return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
}

// Walks the marker segments from SOI to the first SOF; stops at SOS.
std::optional<ClaimedSize> jpeg_size(std::span<const uint8_t> bytes) {
  if (read_be(bytes, 0, 2) != 0xffd8u) return std::nullopt;
  size_t at = 2;
  while (at < bytes.size()) {
    if (bytes[at] != 0xff) return std::nullopt;
    while (at < bytes.size() && bytes[at] == 0xff) ++at;  // fill bytes
    if (at >= bytes.size()) return std::nullopt;
    uint8_t marker = bytes[at++];
    if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;  // no length
    if (marker == 0xd9 || marker == 0xda) return std::nullopt;           // EOI, SOS
    auto length = read_be(bytes, at, 2);
    if (!length || *length < 2) return std::nullopt;
    if (is_start_of_frame(marker)) {
      auto height = read_be(bytes, at + 3, 2);
      auto width = read_be(bytes, at + 5, 2);
      if (!width || !height) return std::nullopt;
      return ClaimedSize{*width, *height};
    }
    at += *length;
  }
  return std::nullopt;
}

// RIFF "WEBP": a VP8X chunk gives the canvas; else the first chunk is a
// plain VP8 (lossy) or VP8L (lossless) frame.
std::optional<ClaimedSize> webp_size(std::span<const uint8_t> bytes) {
  if (!has_tag(bytes, 0, "RIFF") || !has_tag(bytes, 8, "WEBP")) return std::nullopt;
  constexpr size_t kChunk = 12;
  constexpr size_t kPayload = kChunk + 8;
  if (has_tag(bytes, kChunk, "VP8X")) {
    auto width = read_le(bytes, kPayload + 4, 3);
    auto height = read_le(bytes, kPayload + 7, 3);
    if (!width || !height) return std::nullopt;
    return ClaimedSize{*width + 1, *height + 1};
  }
  if (has_tag(bytes, kChunk, "VP8 ")) {
    if (read_be(bytes, kPayload + 3, 3) != 0x9d012au) return std::nullopt;
    auto width = read_le(bytes, kPayload + 6, 2);
    auto height = read_le(bytes, kPayload + 8, 2);
    if (!width || !height) return std::nullopt;
    return ClaimedSize{*width & 0x3fff, *height & 0x3fff};
  }
  if (has_tag(bytes, kChunk, "VP8L")) {
    if (read_be(bytes, kPayload, 1) != 0x2fu) return std::nullopt;
    auto bits = read_le(bytes, kPayload + 1, 4);
    if (!bits) return std::nullopt;
    return ClaimedSize{(*bits & 0x3fff) + 1, (*bits >> 14 & 0x3fff) + 1};
  }
  return std::nullopt;
}

std::optional<ClaimedSize> gif_size(std::span<const uint8_t> bytes) {
  Result<GifLayout> layout = scan_gif(bytes, GifCheck::kBlocks);
  if (!layout) return std::nullopt;
  return ClaimedSize{layout->width, layout->height};
}

}  // namespace

std::optional<ClaimedSize> claimed_size(std::span<const uint8_t> bytes, ImageFormat family) {
  switch (family) {
    case ImageFormat::kJpeg:
      return jpeg_size(bytes);
    case ImageFormat::kPng:
      return png_size(bytes);
    case ImageFormat::kWebp:
      return webp_size(bytes);
    case ImageFormat::kGif:
      return gif_size(bytes);
    case ImageFormat::kAvif:
    case ImageFormat::kHeif:
      return heif_primary_size(bytes);
  }
  return std::nullopt;
}

}  // namespace iafs::image_detail
