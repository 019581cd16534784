// make_test_image OUT WIDTH HEIGHT [alpha] [orientation=N]: writes a gradient
// image (red grows left to right, green top to bottom) encoded by OUT's suffix,
// for integration tests. Uses the unit tests' make_image().
#include <cstdio>
#include <cstdlib>
#include <string>

#include "test_images.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: make_test_image OUT WIDTH HEIGHT [alpha] [orientation=N]\n");
    return 2;
  }
  std::string out = argv[1];
  bool alpha = false;
  int orientation = 0;
  for (int i = 4; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "alpha") alpha = true;
    if (arg.rfind("orientation=", 0) == 0) orientation = std::atoi(arg.c_str() + 12);
  }
  std::string suffix = out.substr(out.rfind('.'));
  auto bytes =
      iafs::test::make_image(std::atoi(argv[2]), std::atoi(argv[3]), suffix, alpha, orientation);
  FILE* f = std::fopen(out.c_str(), "wb");
  if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) return 1;
  return std::fclose(f) == 0 ? 0 : 1;
}
