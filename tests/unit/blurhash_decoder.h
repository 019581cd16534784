// A BlurHash decoder for tests, written from the public description of the
// format (woltapp/blurhash Algorithm.md), independently of src/image/blurhash.cc.
#pragma once

#include <criterion/criterion.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

namespace iafs::test {

inline constexpr std::string_view kBase83 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

using Rgb = std::array<double, 3>;

inline uint32_t decode83(std::string_view digits) {
  uint32_t value = 0;
  for (char c : digits) value = value * 83 + uint32_t(kBase83.find(c));
  return value;
}

inline double to_linear(double srgb) {
  double v = srgb / 255;
  return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
}

inline double to_srgb(double linear) {
  double v = std::clamp(linear, 0.0, 1.0);
  return 255 * (v <= 0.0031308 ? v * 12.92 : 1.055 * std::pow(v, 1 / 2.4) - 0.055);
}

// A decoded BlurHash: width x height sRGB pixels (as doubles, 0..255).
struct Decoded {
  int width, height;
  std::vector<Rgb> pixels;
  const Rgb& at(int x, int y) const { return pixels[size_t(y) * width + x]; }
};

// Decodes `hash` as any BlurHash decoder does: pixel (x, y) is the sum of
// C_ij cos(pi i x / width) cos(pi j y / height).
inline Decoded decode_blurhash(const std::string& hash, int width, int height) {
  cr_assert_geq(hash.size(), 6u);
  uint32_t flag = decode83(hash.substr(0, 1));
  int nx = int(flag % 9) + 1, ny = int(flag / 9) + 1;
  cr_assert_eq(hash.size(), size_t(4 + 2 * nx * ny), "length %zu for %dx%d", hash.size(), nx, ny);
  double maximum = (decode83(hash.substr(1, 1)) + 1) / 166.0;
  std::vector<Rgb> c;
  uint32_t dc = decode83(hash.substr(2, 4));
  c.push_back({to_linear(dc >> 16), to_linear((dc >> 8) & 255), to_linear(dc & 255)});
  for (int k = 1; k < nx * ny; ++k) {
    uint32_t v = decode83(hash.substr(6 + 2 * (k - 1), 2));
    Rgb ac;
    uint32_t q[3] = {v / 361, (v / 19) % 19, v % 19};
    for (int ch = 0; ch < 3; ++ch) {
      double unit = (double(q[ch]) - 9) / 9;
      ac[ch] = std::copysign(unit * unit, unit) * maximum;
    }
    c.push_back(ac);
  }
  Decoded out{width, height, std::vector<Rgb>(size_t(width) * height)};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      Rgb sum{0, 0, 0};
      for (int j = 0; j < ny; ++j) {
        for (int i = 0; i < nx; ++i) {
          double basis = std::cos(std::numbers::pi * x * i / width) *
                         std::cos(std::numbers::pi * y * j / height);
          for (int ch = 0; ch < 3; ++ch) sum[ch] += c[size_t(j * nx + i)][ch] * basis;
        }
      }
      for (double& v : sum) v = to_srgb(v);
      out.pixels[size_t(y) * width + x] = sum;
    }
  }
  return out;
}

}  // namespace iafs::test
