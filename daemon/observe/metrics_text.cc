#include "daemon/observe/metrics_text.h"

#include <spdlog/fmt/fmt.h>
#include <cmath>
#include <cstdint>

namespace muster::daemon {
namespace {

// HELP text escapes backslash and newline only (the format's rule).
std::string escape_help(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string escape_label_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_sample_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Exact integers (counts, bytes) print as such, up to 2^53.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0)
    return fmt::format("{}", static_cast<std::int64_t>(value));
  return fmt::format("{}", value);
}

std::string render_prometheus(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const auto& family : families) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", family.name, escape_help(family.help),
                       family.name, family.type);
    for (const auto& sample : family.samples) {
      out += family.name;
      if (!sample.labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < sample.labels.size(); ++i) {
          if (i) out += ',';
          out += fmt::format("{}=\"{}\"", sample.labels[i].first,
                             escape_label_value(sample.labels[i].second));
        }
        out += '}';
      }
      out += ' ';
      out += format_sample_value(sample.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace muster::daemon
