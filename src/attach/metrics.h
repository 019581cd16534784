// Counters of the daemon and their Prometheus text exposition (format 0.0.4),
// read at /.imageattachfs/metrics. Counting is lock-free (relaxed atomics):
// a scrape sees each value whole, not all values at one instant.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace iafs {

// A monotonic count.
class Counter {
 public:
  void add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// What a histogram held at one read: per-bucket counts (not cumulative), the
// bucket upper bounds they belong to (the last bucket is +Inf), and the sum.
struct HistogramSnapshot {
  std::vector<double> bounds;    // upper bounds, ascending, without +Inf
  std::vector<uint64_t> counts;  // bounds.size() + 1 entries: the last is above every bound
  double sum = 0;
};

// Observations of a duration in seconds, in fixed buckets.
class SecondsHistogram {
 public:
  // Upper bounds (seconds) of the buckets, from a small thumbnail (a few ms)
  // to a 100 MP photograph (tens of seconds).
  static constexpr std::array<double, 12> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1,  0.25,
                                                     0.5,   1.0,  2.5,   5.0,  10.0, 30.0};

  void observe_ns(int64_t ns);
  HistogramSnapshot snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> counts_{};
  std::atomic<uint64_t> sum_ns_{0};
};

struct MetricLabel {
  std::string_view name;   // REQUIRES: [a-zA-Z_][a-zA-Z0-9_]*
  std::string_view value;  // any bytes; escaped when written
};

// Builds a text exposition: each family (# HELP, # TYPE) followed by its
// samples. REQUIRES: names match [a-zA-Z_:][a-zA-Z0-9_:]*; a family's samples
// follow it, and each family is written once.
class PrometheusText {
 public:
  // Starts family `name` of `type` ("counter", "gauge", "histogram").
  void family(std::string_view name, std::string_view type, std::string_view help);
  // One sample line: name{labels} value.
  void sample(std::string_view name, double value, std::initializer_list<MetricLabel> labels = {});
  // A whole histogram family: cumulative `_bucket{le=...}` lines up to
  // le="+Inf", then `_sum` and `_count` (equal to the +Inf bucket).
  void histogram(std::string_view name, std::string_view help, const HistogramSnapshot& values);

  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

// `value` as a label value between double quotes: \ " and newline escaped.
std::string escape_label_value(std::string_view value);
// `text` as HELP text: \ and newline escaped.
std::string escape_help(std::string_view text);
// A sample value: integers exactly ("42"), others shortest round-trip, and
// "+Inf", "-Inf", "NaN".
std::string format_sample_value(double value);

}  // namespace iafs
