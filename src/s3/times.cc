#include "s3/times.h"

#include <array>

#include "base/clock.h"

namespace iafs::s3 {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = static_cast<unsigned>(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// `count` decimal digits at `at`, or nullopt.
std::optional<unsigned> digits(std::string_view text, size_t at, size_t count) {
  if (at + count > text.size()) return std::nullopt;
  unsigned value = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
  }
  return value;
}

std::optional<int64_t> to_ns(unsigned year, unsigned month, unsigned day, unsigned hour,
                             unsigned minute, unsigned second) {
  static constexpr std::array<unsigned, 12> kDays = {31, 29, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return std::nullopt;
  int64_t days = days_from_civil(year, month, day);
  return ((days * 24 + hour) * 60 + minute) * 60 * kNanosPerSecond +
         int64_t{second} * kNanosPerSecond;
}

}  // namespace

std::optional<int64_t> parse_iso8601_ns(std::string_view text) {
  std::size_t pos = 0;
  auto number = [&](std::size_t digits, int64_t& out) {
    if (text.size() - pos < digits) return false;
    out = 0;
    for (std::size_t i = 0; i < digits; ++i, ++pos) {
      if (text[pos] < '0' || text[pos] > '9') return false;
      out = out * 10 + (text[pos] - '0');
    }
    return true;
  };
  auto literal = [&](char c) { return pos < text.size() && text[pos++] == c; };
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!number(4, year) || !literal('-') || !number(2, month) || !literal('-') || !number(2, day) ||
      !literal('T') || !number(2, hour) || !literal(':') || !number(2, minute) || !literal(':') ||
      !number(2, second)) {
    return std::nullopt;
  }
  int64_t fraction_ns = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = kNanosPerSecond / 10;
    std::size_t digits = 0;
    for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
      fraction_ns += (text[pos] - '0') * scale;
      scale /= 10;
    }
    if (digits == 0) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int64_t sign = text[pos++] == '-' ? -1 : 1;
    int64_t oh = 0, om = 0;
    if (!number(2, oh) || !literal(':') || !number(2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  // Years where ns since the epoch fit in int64 with room to spare.
  if (pos != text.size() || year < 1900 || year > 2200) return std::nullopt;
  std::optional<int64_t> ns =
      to_ns(static_cast<unsigned>(year), static_cast<unsigned>(month), static_cast<unsigned>(day),
            static_cast<unsigned>(hour), static_cast<unsigned>(minute), static_cast<unsigned>(second));
  if (!ns) return std::nullopt;
  return *ns - offset_s * kNanosPerSecond + fraction_ns;
}

std::optional<int64_t> parse_http_date_ns(std::string_view t) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // "Tue, 01 Dec 2026 23:11:06 GMT": 29 characters.
  if (t.size() != 29 || t.substr(3, 2) != ", " || t[7] != ' ' || t[11] != ' ' || t[16] != ' ' ||
      t[19] != ':' || t[22] != ':' || t.substr(25) != " GMT") {
    return std::nullopt;
  }
  unsigned month = 0;
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (t.substr(8, 3) == kMonths[i]) month = i + 1;
  }
  auto day = digits(t, 5, 2), year = digits(t, 12, 4);
  auto hour = digits(t, 17, 2), minute = digits(t, 20, 2), second = digits(t, 23, 2);
  if (month == 0 || !day || !year || !hour || !minute || !second) return std::nullopt;
  return to_ns(*year, month, *day, *hour, *minute, *second);
}

}  // namespace iafs::s3
