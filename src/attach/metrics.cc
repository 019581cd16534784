#include "attach/metrics.h"

#include <charconv>
#include <cmath>

namespace iafs {

void SecondsHistogram::observe_ns(int64_t ns) {
  if (ns < 0) ns = 0;
  double seconds = static_cast<double>(ns) / 1e9;
  size_t bucket = 0;
  while (bucket < kBounds.size() && seconds > kBounds[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
}

HistogramSnapshot SecondsHistogram::snapshot() const {
  HistogramSnapshot out;
  out.bounds.assign(kBounds.begin(), kBounds.end());
  for (const auto& count : counts_) out.counts.push_back(count.load(std::memory_order_relaxed));
  out.sum = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return out;
}

namespace {

// Prometheus text escapes: backslash and newline, and in label values quotes.
std::string escape_text(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string escape_label_value(std::string_view value) { return escape_text(value, true); }

std::string escape_help(std::string_view text) { return escape_text(text, false); }

std::string format_sample_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::to_chars_result written;
  // Integral values (counts, bytes) exactly, never in exponent form.
  if (value == std::floor(value) && std::fabs(value) < 1e18) {
    written = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(value));
  } else {
    written = std::to_chars(buf, buf + sizeof(buf), value);
  }
  return std::string(buf, written.ptr);
}

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += escape_help(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::sample(std::string_view name, double value,
                            std::initializer_list<MetricLabel> labels) {
  out_ += name;
  if (labels.size() > 0) {
    out_ += '{';
    bool first = true;
    for (const MetricLabel& label : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += label.name;
      out_ += "=\"";
      out_ += escape_label_value(label.value);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += format_sample_value(value);
  out_ += '\n';
}

void PrometheusText::histogram(std::string_view name, std::string_view help,
                               const HistogramSnapshot& values) {
  family(name, "histogram", help);
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < values.counts.size(); ++i) {
    cumulative += values.counts[i];
    std::string le = i < values.bounds.size() ? format_sample_value(values.bounds[i]) : "+Inf";
    sample(bucket, static_cast<double>(cumulative), {{"le", le}});
  }
  sample(std::string(name) + "_sum", values.sum);
  sample(std::string(name) + "_count", static_cast<double>(cumulative));
}

}  // namespace iafs
