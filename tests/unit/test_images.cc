#include "test_images.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <mutex>
#include <vips/vips8>

#include "image/image.h"

namespace iafs::test {

void ensure_vips() {
  static std::once_flag once;
  std::call_once(once, [] { (void)image_init("iafs-test"); });
}

std::vector<uint8_t> make_image(int width, int height, const std::string& suffix, bool alpha,
                                int orientation) {
  ensure_vips();
  using vips::VImage;
  // Red grows left to right, green top to bottom: orientation is visible.
  VImage x = VImage::xyz(width, height);
  VImage r = x.extract_band(0) * (255.0 / std::max(1, width - 1));
  VImage g = x.extract_band(1) * (255.0 / std::max(1, height - 1));
  VImage b = VImage::black(width, height) + 64;
  VImage img = r.bandjoin(g).bandjoin(b).cast(VIPS_FORMAT_UCHAR);
  img = img.copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
  if (alpha) img = img.bandjoin_const({128});
  if (orientation > 0) {
    img = img.copy();
    img.set("orientation", orientation);
  }
  void* buf = nullptr;
  size_t size = 0;
  img.write_to_buffer(suffix.c_str(), &buf, &size);
  std::vector<uint8_t> out(static_cast<uint8_t*>(buf), static_cast<uint8_t*>(buf) + size);
  g_free(buf);
  return out;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string testdata(const std::string& name) {
  std::string path = std::string(IAFS_TESTDATA_DIR) + "/" + name;
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? path : std::string();
}

namespace {

void put_be(uint8_t* at, uint32_t value, int size) {
  for (int i = 0; i < size; ++i) at[i] = uint8_t(value >> (8 * (size - 1 - i)));
}

}  // namespace

std::vector<uint8_t> jpeg_claiming(std::vector<uint8_t> jpeg, uint16_t width, uint16_t height) {
  for (size_t at = 2; at + 9 < jpeg.size();) {
    uint8_t marker = jpeg[at + 1];
    size_t length = size_t(jpeg[at + 2]) << 8 | jpeg[at + 3];
    if (marker == 0xc0 || marker == 0xc1 || marker == 0xc2) {
      put_be(&jpeg[at + 5], height, 2);
      put_be(&jpeg[at + 7], width, 2);
      return jpeg;
    }
    at += 2 + length;
  }
  return {};
}

std::vector<uint8_t> gif_with_one_pixel_of_data(uint16_t width, uint16_t height) {
  std::vector<uint8_t> gif = {'G', 'I', 'F', '8', '9', 'a'};
  auto le16 = [&](uint16_t v) {
    gif.push_back(uint8_t(v));
    gif.push_back(uint8_t(v >> 8));
  };
  le16(width);
  le16(height);
  gif.insert(gif.end(), {0x80, 0, 0, 0, 0, 0, 255, 255, 255});  // 2-colour table
  gif.push_back(0x2c);
  le16(0);
  le16(0);
  le16(width);
  le16(height);
  gif.push_back(0);
  // Code size 2: clear (4), pixel 0, end (5), 3 bits each, LSB first.
  uint32_t codes = 4 | 0 << 3 | 5 << 6;
  gif.insert(gif.end(), {2, 2, uint8_t(codes), uint8_t(codes >> 8), 0, 0x3b});
  return gif;
}

// libvips 8.14 writes a VP8X chunk even with strip: both it and the VP8L
// frame header are rewritten.
std::vector<uint8_t> webp_claiming(uint32_t width, uint32_t height) {
  std::vector<uint8_t> webp = make_image(16, 16, ".webp[lossless,strip]");
  bool patched = false;
  for (size_t at = 12; at + 13 <= webp.size();) {
    std::string fourcc(webp.begin() + at, webp.begin() + at + 4);
    size_t payload = webp[at + 4] | webp[at + 5] << 8 | webp[at + 6] << 16 | webp[at + 7] << 24;
    uint8_t* data = &webp[at + 8];
    if (fourcc == "VP8X") {
      for (int i = 0; i < 3; ++i) data[4 + i] = uint8_t((width - 1) >> (8 * i));
      for (int i = 0; i < 3; ++i) data[7 + i] = uint8_t((height - 1) >> (8 * i));
    } else if (fourcc == "VP8L") {
      uint32_t bits = data[1] | data[2] << 8 | data[3] << 16 | uint32_t(data[4]) << 24;
      bits = (bits & ~0x0fffffffu) | (width - 1) | (height - 1) << 14;
      for (int i = 0; i < 4; ++i) data[1 + i] = uint8_t(bits >> (8 * i));
      patched = true;
    }
    at += 8 + payload + (payload & 1);
  }
  return patched ? webp : std::vector<uint8_t>{};
}

std::vector<uint8_t> avif_claiming(uint32_t width, uint32_t height) {
  std::vector<uint8_t> avif = make_image(64, 64, ".avif");
  const std::string ispe = "ispe";
  for (size_t at = 0; at + 16 <= avif.size(); ++at) {
    if (std::equal(ispe.begin(), ispe.end(), avif.begin() + at)) {
      put_be(&avif[at + 8], width, 4);
      put_be(&avif[at + 12], height, 4);
    }
  }
  return avif;
}

}  // namespace iafs::test
