// Prometheus text exposition format 0.0.4: metric families in, text out.
// Pure; what the families hold is collected in metrics.cc.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace muster::daemon {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  Labels labels;
  double value = 0;
};

struct MetricFamily {
  std::string name;
  std::string help;
  std::string type;  // "gauge" or "counter"
  std::vector<Sample> samples;

  MetricFamily& add(Labels labels, double value) {
    samples.push_back({std::move(labels), value});
    return *this;
  }
};

// "# HELP", "# TYPE" and one line per sample; label values and help text
// escaped as the format requires. A family without samples is still announced.
std::string render_prometheus(const std::vector<MetricFamily>& families);
// A label value escaped: backslash, double quote and newline.
std::string escape_label_value(const std::string& value);
// A sample value: integers without exponent or fraction, NaN, +Inf, -Inf.
std::string format_sample_value(double value);

}  // namespace muster::daemon
