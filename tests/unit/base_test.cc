// Unit tests of the shared primitives: numbers as users write them, times.
#include <criterion/criterion.h>

#include "base/clock.h"
#include "base/numbers.h"
#include "log/log.h"

using namespace iafs;

Test(numbers, canonical_decimal_accepts_digits_without_leading_zero) {
  cr_assert_eq(parse_canonical_decimal("0", 10).value(), 0u);
  cr_assert_eq(parse_canonical_decimal("42", 100).value(), 42u);
  cr_assert_eq(parse_canonical_decimal("18446744073709551615", UINT64_MAX).value(), UINT64_MAX);
}

Test(numbers, canonical_decimal_rejects_everything_else) {
  for (const char* bad : {"", "007", "00", "+1", "-1", " 1", "1 ", "1e3", "0x10", "١"}) {
    cr_assert_not(parse_canonical_decimal(bad, UINT64_MAX).has_value(), "'%s'", bad);
  }
  cr_assert_not(parse_canonical_decimal("101", 100).has_value());
  cr_assert_not(parse_canonical_decimal("18446744073709551616", UINT64_MAX).has_value());
}

Test(numbers, size_suffixes_are_decimal_and_binary_with_i) {
  cr_assert_eq(parse_number("512", UINT64_MAX).value(), 512u);
  cr_assert_eq(parse_number("1K", UINT64_MAX).value(), 1000u);
  cr_assert_eq(parse_number("100M", UINT64_MAX).value(), 100000000u);
  cr_assert_eq(parse_number("2G", UINT64_MAX).value(), 2000000000u);
  cr_assert_eq(parse_number("1T", UINT64_MAX).value(), 1000000000000u);
  cr_assert_eq(parse_number("1Ki", UINT64_MAX).value(), 1024u);
  cr_assert_eq(parse_number("3Mi", UINT64_MAX).value(), 3u << 20);
  cr_assert_eq(parse_number("512Gi", UINT64_MAX).value(), 512ull << 30);
  cr_assert_eq(parse_number("1Ti", UINT64_MAX).value(), 1ull << 40);
  cr_assert_eq(parse_number("0050", UINT64_MAX).value(), 50u);
}

Test(numbers, rejects_malformed_sizes) {
  for (const char* bad : {"", "G", "Gi", "abc", "1.5G", "-1G", "12X", "1GB", " 1G", "1g", "5i",
                          "1iK", "99999999999T", "18446744073709551616"}) {
    cr_assert_not(parse_number(bad, UINT64_MAX).has_value(), "'%s'", bad);
  }
  cr_assert_not(parse_number("101", 100).has_value());
  cr_assert_not(parse_number("1K", 999).has_value());
  cr_assert_not(parse_number("1K", UINT64_MAX, false).has_value());
}

Test(clock, ns_and_timespec_round_trip_before_and_after_the_epoch) {
  for (int64_t ns :
       {int64_t{0}, int64_t{1}, int64_t{1700000000123456789}, int64_t{-1}, int64_t{-1500000000}}) {
    timespec ts = to_timespec(ns);
    cr_assert(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
    cr_assert_eq(to_ns(ts), ns);
  }
}

Test(log, escapes_control_characters_and_backslashes) {
  cr_expect_eq(escape_for_log("plain /posts/1/photos/0"), "plain /posts/1/photos/0");
  cr_expect_eq(escape_for_log("a\nb"), "a\\x0ab");
  cr_expect_eq(escape_for_log("\x1b[31mred"), "\\x1b[31mred");
  cr_expect_eq(escape_for_log(std::string("nul\0x", 5)), "nul\\x00x");
  cr_expect_eq(escape_for_log("back\\slash"), "back\\\\slash");
  cr_expect_eq(escape_for_log("\x7f"), "\\x7f");
}
