#include "base/numbers.h"

#include <cstdio>

namespace iafs {
namespace {

constexpr size_t kMaxDigits = 20;  // UINT64_MAX has 20 digits

// Digits only, at most `max`.
std::optional<uint64_t> parse_digits(std::string_view text, uint64_t max) {
  if (text.empty() || text.size() > kMaxDigits) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (max - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace

std::optional<uint64_t> parse_canonical_decimal(std::string_view text, uint64_t max) {
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  return parse_digits(text, max);
}

std::optional<uint64_t> parse_number(std::string_view text, uint64_t max, bool units) {
  uint64_t base = 1000;
  if (units && text.ends_with('i')) {
    base = 1024;
    text.remove_suffix(1);
  }
  unsigned power = 0;
  if (units && !text.empty()) {
    constexpr std::string_view kUnits = "KMGT";
    if (size_t at = kUnits.find(text.back()); at != std::string_view::npos) {
      power = static_cast<unsigned>(at + 1);
      text.remove_suffix(1);
    }
  }
  if (base == 1024 && power == 0) return std::nullopt;  // "5i"
  uint64_t multiplier = 1;
  for (unsigned i = 0; i < power; ++i) multiplier *= base;
  std::optional<uint64_t> value = parse_digits(text, UINT64_MAX);
  if (!value || *value > max / multiplier) return std::nullopt;
  return *value * multiplier;
}

std::string hex_u64(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace iafs
