#include "test_images.h"

#include <sys/stat.h>

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

}  // namespace iafs::test
