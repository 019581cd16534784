// The admin command line's parts: MAP.csv records (src/cli/csv_reader.h) and
// the anchor's directory segments (src/cli/anchor_layout.h).
#include <criterion/criterion.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "cli/anchor_layout.h"
#include "cli/csv_reader.h"

using namespace iafs;

namespace {

using Records = std::vector<std::vector<std::string>>;

// Every record of `text`; the error message instead when one is refused.
Records read_csv(const std::string& text, std::string* error = nullptr) {
  FILE* f = fmemopen(const_cast<char*>(text.data()), text.size(), "r");
  cr_assert(f != nullptr);
  CsvReader csv(f);
  Records out;
  for (;;) {
    auto record = csv.next();
    if (!record) {
      if (error != nullptr) *error = record.error().message;
      break;
    }
    if (!*record) break;
    out.push_back(**record);
  }
  fclose(f);
  return out;
}

}  // namespace

Test(csv, reads_plain_records_ended_by_lf_or_crlf) {
  Records r = read_csv("a,b,c\r\n1,,3\n");
  cr_assert_eq(r.size(), 2u);
  cr_assert(r[0] == (std::vector<std::string>{"a", "b", "c"}));
  cr_assert(r[1] == (std::vector<std::string>{"1", "", "3"}));
}

Test(csv, keeps_commas_quotes_and_line_breaks_inside_quoted_fields) {
  Records r = read_csv("\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"\"\nlast,\"x\r\ny\"");
  cr_assert_eq(r.size(), 2u);
  cr_assert(r[0] == (std::vector<std::string>{"a,b", "say \"hi\"", "two\nlines", ""}));
  cr_assert(r[1] == (std::vector<std::string>{"last", "x\r\ny"}));
}

Test(csv, a_last_record_without_line_break_is_read) {
  Records r = read_csv("a,b");
  cr_assert_eq(r.size(), 1u);
  cr_assert(r[0] == (std::vector<std::string>{"a", "b"}));
}

Test(csv, counts_lines_with_breaks_inside_quotes) {
  std::string text = "h\n\"a\nb\"\nc\n";
  FILE* f = fmemopen(text.data(), text.size(), "r");
  CsvReader csv(f);
  cr_assert(csv.next().ok());
  cr_assert_eq(csv.line(), 1u);
  cr_assert(csv.next().ok());
  cr_assert_eq(csv.line(), 2u);
  cr_assert(csv.next().ok());
  cr_assert_eq(csv.line(), 4u);
  fclose(f);
}

Test(csv, refuses_an_unclosed_quote) {
  std::string error;
  read_csv("a,\"open\n", &error);
  cr_assert(error.find("not closed") != std::string::npos, "%s", error.c_str());
}

Test(csv, refuses_a_quote_inside_an_unquoted_field_or_text_after_a_closing_one) {
  std::string error;
  Records r = read_csv("ok\nab\"c\n", &error);
  cr_assert_eq(r.size(), 1u);
  cr_assert(error.find("line 2") != std::string::npos, "%s", error.c_str());
  error.clear();
  read_csv("\"ab\"c\n", &error);
  cr_assert(error.find("after a closing quote") != std::string::npos, "%s", error.c_str());
}

Test(anchor_layout, splits_ids_as_python_floor_division_does) {
  struct Case {
    const char* id;
    const char* a;  // id % 1000
    const char* b;  // id // 1000
  };
  // The values Python 3 prints for these ids.
  const Case cases[] = {
      {"0", "0", "0"},
      {"7", "7", "0"},
      {"999", "999", "0"},
      {"1000", "0", "1"},
      {"1234567", "567", "1234"},
      {"1267650600228229401496703217721", "721", "1267650600228229401496703217"},
      {"-5", "995", "-1"},
      {"-1000", "0", "-1"},
      {"-1001", "999", "-2"},
      {"-999999", "1", "-1000"},
  };
  for (const Case& c : cases) {
    auto [a, b] = anchor_id_segments(c.id);
    cr_assert_eq(a, c.a, "%s %% 1000: %s", c.id, a.c_str());
    cr_assert_eq(b, c.b, "%s // 1000: %s", c.id, b.c_str());
  }
}
