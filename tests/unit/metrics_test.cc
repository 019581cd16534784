// The Prometheus text exposition of the daemon's counters: src/attach/metrics.h.
#include "attach/metrics.h"

#include <criterion/criterion.h>

#include <cmath>
#include <string>

using namespace iafs;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

// A helper, so that the string compared outlives the comparison.
void expect_text(const std::string& got, const char* want) { cr_expect_str_eq(got.c_str(), want); }

}  // namespace

Test(metrics, a_family_starts_with_help_and_type) {
  PrometheusText out;
  out.family("imageattachfs_x_total", "counter", "Things done.");
  out.sample("imageattachfs_x_total", 3);
  cr_expect_str_eq(out.text().c_str(),
                   "# HELP imageattachfs_x_total Things done.\n"
                   "# TYPE imageattachfs_x_total counter\n"
                   "imageattachfs_x_total 3\n");
}

Test(metrics, label_values_are_quoted_and_escaped) {
  PrometheusText out;
  out.sample("m", 1, {{"reason", "a\\b\"c\nd"}, {"other", "x"}});
  cr_expect_str_eq(out.text().c_str(), "m{reason=\"a\\\\b\\\"c\\nd\",other=\"x\"} 1\n");
}

Test(metrics, help_text_escapes_backslash_and_newline_only) {
  expect_text(escape_help("a\\b\n\"c\""), "a\\\\b\\n\"c\"");
}

Test(metrics, values_are_integers_exactly_and_floats_round_trip) {
  expect_text(format_sample_value(0), "0");
  expect_text(format_sample_value(1099511627776.0), "1099511627776");
  expect_text(format_sample_value(0.25), "0.25");
  expect_text(format_sample_value(0.1), "0.1");
  expect_text(format_sample_value(INFINITY), "+Inf");
  expect_text(format_sample_value(-INFINITY), "-Inf");
  expect_text(format_sample_value(NAN), "NaN");
}

Test(metrics, histogram_buckets_are_cumulative_up_to_inf) {
  SecondsHistogram h;
  h.observe_ns(1'000'000);        // 1 ms
  h.observe_ns(7'000'000);        // 7 ms
  h.observe_ns(3'000'000'000);    // 3 s
  h.observe_ns(100'000'000'000);  // 100 s: above every bound
  PrometheusText out;
  out.histogram("t_seconds", "Durations.", h.snapshot());
  const std::string& text = out.text();
  cr_expect(text.starts_with("# HELP t_seconds Durations.\n# TYPE t_seconds histogram\n"));
  cr_expect(has_line(text, "t_seconds_bucket{le=\"0.005\"} 1"), "%s", text.c_str());
  cr_expect(has_line(text, "t_seconds_bucket{le=\"0.01\"} 2"));
  cr_expect(has_line(text, "t_seconds_bucket{le=\"2.5\"} 2"));
  cr_expect(has_line(text, "t_seconds_bucket{le=\"5\"} 3"));
  cr_expect(has_line(text, "t_seconds_bucket{le=\"30\"} 3"));
  cr_expect(has_line(text, "t_seconds_bucket{le=\"+Inf\"} 4"));
  cr_expect(has_line(text, "t_seconds_sum 103.008"), "%s", text.c_str());
  cr_expect(has_line(text, "t_seconds_count 4"));
  // +Inf last among the buckets, then _sum, then _count.
  size_t inf = text.find("le=\"+Inf\"");
  cr_expect(inf < text.find("t_seconds_sum") && text.find("t_seconds_sum") < text.find("_count"));
}

Test(metrics, a_bucket_holds_observations_equal_to_its_bound) {
  SecondsHistogram h;
  h.observe_ns(5'000'000);  // exactly 0.005 s
  h.observe_ns(-1);         // a clock step back counts as 0
  HistogramSnapshot s = h.snapshot();
  cr_assert_eq(s.counts.size(), SecondsHistogram::kBounds.size() + 1);
  cr_expect_eq(s.counts[0], 2u);
  cr_expect_eq(s.sum, 0.005);
}

Test(metrics, counters_add) {
  Counter c;
  c.add();
  c.add(41);
  cr_expect_eq(c.value(), 42u);
}
