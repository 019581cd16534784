#include "attach/focus_text.h"

#include <cstdint>

namespace iafs {
namespace {

constexpr uint32_t kOne = 1000000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// One side: "0", "1", "0.5", "1.000", "0.3333335" (rounded to 333334).
std::optional<uint32_t> parse_coordinate(std::string_view text) {
  if (text.empty() || (text[0] != '0' && text[0] != '1')) return std::nullopt;
  uint32_t value = text[0] == '1' ? kOne : 0;
  if (text.size() == 1) return value;
  if (text[1] != '.' || text.size() == 2) return std::nullopt;
  uint32_t fraction = 0;
  uint32_t scale = kOne;
  bool round_up = false;
  for (size_t i = 2; i < text.size(); ++i) {
    char c = text[i];
    if (!is_digit(c)) return std::nullopt;
    if (scale > 1) {
      scale /= 10;
      fraction += static_cast<uint32_t>(c - '0') * scale;
    } else if (i == 8) {  // the seventh decimal decides the rounding
      round_up = c >= '5';
    }
  }
  value += fraction + (round_up ? 1 : 0);
  if (value > kOne) return std::nullopt;
  return value;
}

void append_coordinate(std::string& out, uint32_t value) {
  out.append(std::to_string(value / kOne));
  uint32_t fraction = value % kOne;
  if (fraction == 0) return;
  std::string digits = std::to_string(fraction);
  out.push_back('.');
  out.append(6 - digits.size(), '0');
  while (digits.back() == '0') digits.pop_back();
  out.append(digits);
}

}  // namespace

std::optional<FocalPoint> parse_focus(std::string_view text) {
  size_t comma = text.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  auto x = parse_coordinate(text.substr(0, comma));
  auto y = parse_coordinate(text.substr(comma + 1));
  if (!x || !y) return std::nullopt;
  return FocalPoint{*x, *y};
}

std::string focus_text(const FocalPoint& focus) {
  std::string out;
  append_coordinate(out, focus.x);
  out.push_back(',');
  append_coordinate(out, focus.y);
  return out;
}

}  // namespace iafs
