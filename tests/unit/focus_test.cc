// Unit tests of user.image.focus as text: what setfattr may write, and what
// getfattr shows.
#include <criterion/criterion.h>

#include "attach/focus_text.h"

using namespace iafs;

namespace {

bool parses_to(std::string_view text, uint32_t x, uint32_t y) {
  auto focus = parse_focus(text);
  return focus && focus->x == x && focus->y == y;
}

}  // namespace

Test(focus, parses_decimals_in_zero_to_one) {
  cr_expect(parses_to("0.35,0.20", 350000, 200000));
  cr_expect(parses_to("0.5,0.5", 500000, 500000));
  cr_expect(parses_to("0,1", 0, 1000000));
  cr_expect(parses_to("1,0.25", 1000000, 250000));
  cr_expect(parses_to("0.333333,0", 333333, 0));
  cr_expect(parses_to("1.000000,0.000000", 1000000, 0));
  cr_expect(parses_to("0.000001,0.999999", 1, 999999));
}

Test(focus, rounds_past_six_decimals_to_millionths) {
  cr_expect(parses_to("0.3333334,0.3333335", 333333, 333334));
  cr_expect(parses_to("0.99999949999,0.9999995", 999999, 1000000));
  cr_expect(parses_to("1.0000004,0", 1000000, 0));
  cr_expect(parses_to("0.12345678901234567890123,0", 123457, 0));
}

Test(focus, refuses_anything_else) {
  for (const char* text : {"",          ",",     "0.5",         "0.5,",     ",0.5",     "1.1,0",
                           "0,1.1",     "2,0",   "1.0000005,0", "-0,0",     "0,-0",     "+0,0",
                           "-0.5,0.5",  "a,b",   "0.5,0.5,0.5", " 0.5,0.5", "0.5, 0.5", "0.5,0.5 ",
                           "0.5,0.5\n", ".5,.5", "0.,0",        "00.5,0",   "01,0",     "0.5e0,0",
                           "0x1,0",     "0,5,5", "nan,0",       "0;0.5"}) {
    cr_expect(!parse_focus(text).has_value(), "\"%s\" refused", text);
  }
  cr_expect(!parse_focus(std::string_view("0.5\0,0.5", 8)).has_value(), "a NUL byte refused");
}

Test(focus, shows_up_to_six_decimals_without_trailing_zeros) {
  cr_expect(focus_text({350000, 200000}) == "0.35,0.2");
  cr_expect(focus_text({0, 1000000}) == "0,1");
  cr_expect(focus_text({1, 999999}) == "0.000001,0.999999");
  cr_expect(focus_text({500000, 50000}) == "0.5,0.05");
  cr_expect(focus_text({333333, 100}) == "0.333333,0.0001");
}

Test(focus, the_shown_text_parses_back) {
  for (uint32_t x : {0u, 1u, 9u, 10u, 123456u, 500000u, 999999u, 1000000u}) {
    for (uint32_t y : {0u, 70u, 250000u, 1000000u}) {
      auto back = parse_focus(focus_text({x, y}));
      cr_expect(back && back->x == x && back->y == y, "%u,%u", x, y);
    }
  }
}
