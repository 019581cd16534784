// Dropping EXIF and XMP chunks from an encoded WebP.
//
// libvips 8.14.1's webpsave writes an EXIF chunk even with strip=true (a
// fresh one: orientation, resolution, dimensions), so "all metadata stripped"
// needs this pass over the RIFF container.
#include "image/webp_metadata.h"

#include <cstring>

namespace iafs::image_detail {
namespace {

uint32_t get_le32(const uint8_t* at) {
  return uint32_t(at[0]) | uint32_t(at[1]) << 8 | uint32_t(at[2]) << 16 | uint32_t(at[3]) << 24;
}

void put_le32(uint8_t* at, uint32_t value) {
  for (int i = 0; i < 4; ++i) at[i] = uint8_t(value >> (8 * i));
}

constexpr size_t kRiffHeader = 12;  // "RIFF", size, "WEBP"
constexpr size_t kChunkHeader = 8;  // fourcc, size
constexpr uint8_t kVp8xExifFlag = 0x08;
constexpr uint8_t kVp8xXmpFlag = 0x04;

}  // namespace

bool strip_webp_metadata(std::vector<uint8_t>& webp) {
  if (webp.size() < kRiffHeader || std::memcmp(webp.data(), "RIFF", 4) != 0 ||
      std::memcmp(webp.data() + 8, "WEBP", 4) != 0) {
    return false;
  }
  std::vector<uint8_t> out(webp.begin(), webp.begin() + kRiffHeader);
  size_t at = kRiffHeader;
  while (at < webp.size()) {
    if (webp.size() - at < kChunkHeader) return false;
    size_t payload = get_le32(webp.data() + at + 4);
    size_t chunk = kChunkHeader + payload + (payload & 1);
    if (chunk > webp.size() - at) return false;
    const uint8_t* fourcc = webp.data() + at;
    bool metadata = std::memcmp(fourcc, "EXIF", 4) == 0 || std::memcmp(fourcc, "XMP ", 4) == 0;
    if (!metadata) {
      size_t start = out.size();
      out.insert(out.end(), webp.begin() + at, webp.begin() + at + chunk);
      if (std::memcmp(fourcc, "VP8X", 4) == 0 && payload >= 1) {
        out[start + kChunkHeader] &= uint8_t(~(kVp8xExifFlag | kVp8xXmpFlag));
      }
    }
    at += chunk;
  }
  put_le32(out.data() + 4, uint32_t(out.size() - 8));
  webp = std::move(out);
  return true;
}

}  // namespace iafs::image_detail
