// The Prometheus text exposition format, as /metrics writes it.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "daemon/observe/metrics_text.h"

using namespace muster::daemon;

TEST_CASE("a family is announced with HELP and TYPE, then one line per sample", "[metrics]") {
  MetricFamily f{"muster_workers", "Live workers by state.", "gauge", {}};
  f.add({{"app", "web"}, {"state", "listening"}}, 4).add({{"app", "web"}, {"state", "online"}}, 0);
  CHECK(render_prometheus({f}) ==
        "# HELP muster_workers Live workers by state.\n"
        "# TYPE muster_workers gauge\n"
        "muster_workers{app=\"web\",state=\"listening\"} 4\n"
        "muster_workers{app=\"web\",state=\"online\"} 0\n");
}

TEST_CASE("a sample without labels has no braces", "[metrics]") {
  MetricFamily f{"process_open_fds", "Fds.", "gauge", {}};
  f.add({}, 12);
  CHECK(render_prometheus({f}) ==
        "# HELP process_open_fds Fds.\n# TYPE process_open_fds gauge\nprocess_open_fds 12\n");
}

TEST_CASE("a family without samples is still announced", "[metrics]") {
  MetricFamily f{"muster_worker_uptime_seconds", "Seconds.", "gauge", {}};
  CHECK(render_prometheus({f}) ==
        "# HELP muster_worker_uptime_seconds Seconds.\n"
        "# TYPE muster_worker_uptime_seconds gauge\n");
}

TEST_CASE("label values escape backslash, double quote and newline", "[metrics]") {
  CHECK(escape_label_value("plain") == "plain");
  CHECK(escape_label_value(R"(a\b)") == R"(a\\b)");
  CHECK(escape_label_value("say \"hi\"") == R"(say \"hi\")");
  CHECK(escape_label_value("two\nlines") == R"(two\nlines)");
}

TEST_CASE("help text escapes backslash and newline but not quotes", "[metrics]") {
  MetricFamily f{"m", "a \"quoted\" \\ and\nmore", "counter", {}};
  CHECK(render_prometheus({f}) == "# HELP m a \"quoted\" \\\\ and\\nmore\n# TYPE m counter\n");
}

TEST_CASE("sample values: integers plainly, fractions, and the special values", "[metrics]") {
  CHECK(format_sample_value(0) == "0");
  CHECK(format_sample_value(42) == "42");
  CHECK(format_sample_value(-3) == "-3");
  CHECK(format_sample_value(5.9e9) == "5900000000");  // bytes, no exponent
  CHECK(format_sample_value(0.25) == "0.25");
  CHECK(format_sample_value(1.5) == "1.5");
  CHECK(format_sample_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(format_sample_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_sample_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  double parsed = std::stod(format_sample_value(1e20));
  CHECK(parsed == 1e20);
}
