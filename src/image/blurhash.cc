// encode_blurhash, written from the public description of the algorithm
// (woltapp/blurhash Algorithm.md).
#include "image/blurhash.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <string_view>
#include <vector>

namespace iafs::image_detail {
namespace {

constexpr std::string_view kBase83 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

// `value` as `digits` base-83 digits, most significant first.
void append_base83(std::string& out, uint32_t value, int digits) {
  for (int i = digits - 1; i >= 0; --i) {
    uint32_t divisor = 1;
    for (int k = 0; k < i; ++k) divisor *= 83;
    out.push_back(kBase83[(value / divisor) % 83]);
  }
}

double srgb_to_linear(uint8_t value) {
  double v = value / 255.0;
  return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
}

uint32_t linear_to_srgb(double value) {
  double v = std::clamp(value, 0.0, 1.0);
  double s = v <= 0.0031308 ? v * 12.92 : 1.055 * std::pow(v, 1 / 2.4) - 0.055;
  return uint32_t(std::lround(std::clamp(s * 255.0, 0.0, 255.0)));
}

using Rgb = std::array<double, 3>;

// cos(pi * component * (position + 1/2) / size) for every position.
std::vector<double> basis(int component, uint32_t size) {
  std::vector<double> out(size);
  for (uint32_t p = 0; p < size; ++p) {
    out[p] = std::cos(std::numbers::pi * component * (p + 0.5) / size);
  }
  return out;
}

// The DCT factor (i, j) of the linear image: normalisation 1 for (0, 0), else 2.
Rgb factor(const std::vector<Rgb>& linear, uint32_t width, uint32_t height, int i, int j) {
  std::vector<double> bx = basis(i, width), by = basis(j, height);
  Rgb sum{0, 0, 0};
  for (uint32_t y = 0; y < height; ++y) {
    for (uint32_t x = 0; x < width; ++x) {
      double weight = bx[x] * by[y];
      const Rgb& pixel = linear[size_t(y) * width + x];
      for (int c = 0; c < 3; ++c) sum[c] += weight * pixel[c];
    }
  }
  double scale = (i == 0 && j == 0 ? 1.0 : 2.0) / (double(width) * height);
  for (double& v : sum) v *= scale;
  return sum;
}

// An AC component, each channel quantised to 0..18 of maximum, as 19^2 r + 19 g + b.
uint32_t quantise_ac(const Rgb& ac, double maximum) {
  uint32_t packed = 0;
  for (double v : ac) {
    double scaled = v / maximum;
    double curved = std::copysign(std::sqrt(std::abs(scaled)), scaled);
    packed = packed * 19 + uint32_t(std::clamp(std::floor(curved * 9 + 9.5), 0.0, 18.0));
  }
  return packed;
}

}  // namespace

std::string encode_blurhash(std::span<const uint8_t> rgb, uint32_t width, uint32_t height,
                            int x_components, int y_components) {
  std::vector<Rgb> linear(size_t(width) * height);
  for (size_t p = 0; p < linear.size(); ++p) {
    for (int c = 0; c < 3; ++c) linear[p][c] = srgb_to_linear(rgb[p * 3 + c]);
  }
  std::vector<Rgb> factors;
  for (int j = 0; j < y_components; ++j) {
    for (int i = 0; i < x_components; ++i) factors.push_back(factor(linear, width, height, i, j));
  }

  std::string hash;
  append_base83(hash, uint32_t((x_components - 1) + (y_components - 1) * 9), 1);
  double largest = 0;
  for (size_t k = 1; k < factors.size(); ++k) {
    for (double v : factors[k]) largest = std::max(largest, std::abs(v));
  }
  // The largest AC magnitude, quantised to 0..82: it stands for (q + 1) / 166.
  auto quantised_max = uint32_t(std::clamp(std::floor(largest * 166 - 0.5), 0.0, 82.0));
  append_base83(hash, factors.size() > 1 ? quantised_max : 0, 1);
  const Rgb& dc = factors[0];
  append_base83(
      hash, linear_to_srgb(dc[0]) << 16 | linear_to_srgb(dc[1]) << 8 | linear_to_srgb(dc[2]), 4);
  double maximum = (quantised_max + 1) / 166.0;
  for (size_t k = 1; k < factors.size(); ++k)
    append_base83(hash, quantise_ac(factors[k], maximum), 2);
  return hash;
}

}  // namespace iafs::image_detail
