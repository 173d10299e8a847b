// How config files with errors are reported (config/config.cc,
// config/apps.cc): at the key or value, with what was expected. Valid files:
// config_test.cc.
#include <catch2/catch.hpp>

#include "config/config.h"
#include "tests/unit/config_support.h"

using namespace muster::config;
using muster::test::check_at;
using muster::test::load_error;
using muster::test::load_ok;
using namespace std::chrono_literals;

TEST_CASE("an unknown top-level key is reported at the key") {
  ConfigError error = load_error("colour = \"blue\"\n");
  check_at(error, 1, 1, "colour");
  CHECK(error.message == "unknown key");
}

TEST_CASE("an unknown top-level table is reported as an unknown key") {
  ConfigError error = load_error("[metrics.web]\nlisten = \"0.0.0.0:9464\"\n");
  check_at(error, 1, 2, "metrics");
  CHECK(error.message == "unknown key");
}

TEST_CASE("an unknown key in [daemon] is reported") {
  ConfigError error = load_error("[daemon]\nmetrics_port = 9464\n");
  check_at(error, 2, 1, "daemon.metrics_port");
  CHECK(error.message == "unknown key");
}

TEST_CASE("an unknown key in an app is reported") {
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\n  restarts = 3\n");
  check_at(error, 3, 3, "apps.web.restarts");
  CHECK(error.message == "unknown key");
}

TEST_CASE("a value of the wrong type is reported at the value") {
  ConfigError error = load_error("[apps.web]\nexec = 5\n");
  check_at(error, 2, 8, "apps.web.exec");
  CHECK(error.message == "expected a non-empty string, got integer");

  error = load_error("[apps.web]\nexec = \"x\"\nuser = true\n");
  check_at(error, 3, 8, "apps.web.user");
  CHECK(error.message == "expected a string, got boolean");
}

TEST_CASE("args must be an array of strings") {
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\nargs = \"a b\"\n");
  check_at(error, 3, 8, "apps.web.args");
  CHECK(error.message == "expected an array of strings, got string");

  error = load_error("[apps.web]\nexec = \"x\"\nargs = [\"a\", 2]\n");
  check_at(error, 3, 14, "apps.web.args[1]");
  CHECK(error.message == "expected a string, got integer");
}

TEST_CASE("env values must be strings") {
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\nenv = { PORT = 8000 }\n");
  check_at(error, 3, 16, "apps.web.env.PORT");
  CHECK(error.message == "expected a string, got integer");
}

TEST_CASE("env names must not contain an equals sign") {
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\nenv = { \"A=B\" = \"c\" }\n");
  check_at(error, 3, 9, "apps.web.env");
}

TEST_CASE("a malformed duration is reported with an example of a good one") {
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\nrestart_delay = \"5 seconds\"\n");
  check_at(error, 3, 17, "apps.web.restart_delay");
  CHECK(error.message == R"(expected a duration like "250ms" or "1m30s", got "5 seconds")");

  error = load_error("[daemon]\nshutdown_timeout = 10\n");
  check_at(error, 2, 20, "daemon.shutdown_timeout");
  CHECK(error.message == R"(expected a duration like "250ms" or "1m30s", got integer)");
}

TEST_CASE("an unknown stop signal is reported") {
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\nstop_signal = \"SIGFOO\"\n");
  check_at(error, 3, 15, "apps.web.stop_signal");
  CHECK(error.message == R"(expected a signal name like "SIGTERM" or a number, got "SIGFOO")");
}

TEST_CASE("a missing exec is reported at the app's table header") {
  ConfigError error = load_error("[daemon]\n\n[apps.web]\nargs = [\"x\"]\n");
  check_at(error, 3, 1, "apps.web.exec");
  CHECK_THAT(error.message, Catch::StartsWith("required key is missing"));
}

TEST_CASE("an empty exec is reported") {
  ConfigError error = load_error("[apps.web]\nexec = \"\"\n");
  check_at(error, 2, 8, "apps.web.exec");
  CHECK(error.message == R"(expected a non-empty string, got "")");
}

TEST_CASE("a value outside an enumeration lists the accepted ones") {
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\nrestart = \"sometimes\"\n");
  check_at(error, 3, 11, "apps.web.restart");
  CHECK(error.message == R"(expected one of always, on-failure, never, got "sometimes")");
  error = load_error("[daemon]\nlog_level = \"verbose\"\n");
  check_at(error, 2, 13, "daemon.log_level");
  CHECK(error.message == R"(expected one of trace, debug, info, warn, error, got "verbose")");
}

TEST_CASE("the protocol is none, node or systemd") {
  CHECK(load_ok("[apps.web]\nexec = \"x\"\nprotocol = \"node\"\n").apps.at(0).protocol ==
        Protocol::node);
  CHECK(load_ok("[apps.web]\nexec = \"x\"\nprotocol = \"systemd\"\n").apps.at(0).protocol ==
        Protocol::systemd);
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\nprotocol = \"sd\"\n");
  check_at(error, 3, 12, "apps.web.protocol");
  CHECK(error.message == R"(expected one of none, node, systemd, got "sd")");
}

TEST_CASE("a negative instance count is reported") {
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\ninstances = -1\n");
  check_at(error, 3, 13, "apps.web.instances");
  CHECK(error.message == "expected a number of workers from 0 (one per CPU) to 4096, got -1");
  error = load_error("[apps.web]\nexec = \"x\"\ninstances = 2.5\n");
  CHECK(error.message == "expected a number of workers from 0 (one per CPU) to 4096, got float");
}

TEST_CASE("output = file without output_file is reported at output") {
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\noutput = \"file\"\n");
  check_at(error, 3, 10, "apps.web.output_file");
  CHECK_THAT(error.message, Catch::Contains(R"(required when output = "file")"));

  error = load_error("[apps.web]\nexec = \"x\"\noutput = \"file\"\noutput_file = \"\"\n");
  check_at(error, 4, 15, "apps.web.output_file");
}

TEST_CASE("output_file with another output is reported") {
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\noutput_file = \"web.log\"\n");
  check_at(error, 3, 15, "apps.web.output_file");
  CHECK(error.message == R"(only used with output = "file", but output is "log")");
  // An empty output_file means none, as in the documented example config.
  load_ok("[apps.web]\nexec = \"x\"\noutput = \"null\"\noutput_file = \"\"\n");
}

TEST_CASE("a restart_delay_max below restart_delay is reported") {
  ConfigError error =
      load_error("[apps.web]\nexec = \"x\"\nrestart_delay = \"2s\"\nrestart_delay_max = \"1s\"\n");
  check_at(error, 4, 21, "apps.web.restart_delay_max");
  CHECK(error.message == R"(expected at least restart_delay (2s), got "1s")");

  error = load_error("[apps.web]\nexec = \"x\"\nrestart_delay = \"1m\"\n");
  check_at(error, 3, 17, "apps.web.restart_delay");
  CHECK(error.message == R"(expected at most restart_delay_max (30s), got "1m")");
}

TEST_CASE("an app name with characters outside A-Z a-z 0-9 _ . - is reported") {
  ConfigError error = load_error("[apps.\"my app\"]\nexec = \"x\"\n");
  check_at(error, 1, 7, "apps.my app");
  load_ok("[apps.\"web-1.blue_A\"]\nexec = \"x\"\n");
}

TEST_CASE("apps must be a table of tables and daemon a table") {
  ConfigError error = load_error("apps = 3\n");
  check_at(error, 1, 8, "apps");

  error = load_error("[apps]\nweb = \"node\"\n");
  check_at(error, 2, 7, "apps.web");
  CHECK(error.message == "expected a table, got string");

  error = load_error("[[apps.web]]\nexec = \"x\"\n");
  CHECK(error.key == "apps.web");
  CHECK(error.message == "expected a table, got array");

  check_at(load_error("daemon = \"yes\"\n"), 1, 10, "daemon");
}

TEST_CASE("a control mode must be octal digits") {
  CHECK(load_ok("[daemon]\ncontrol_mode = \"660\"\n").daemon.control_mode == 0660);
  ConfigError error = load_error("[daemon]\ncontrol_mode = \"0689\"\n");
  check_at(error, 2, 16, "daemon.control_mode");
  CHECK(error.message == R"(expected an octal file mode like "0600", got "0689")");
  error = load_error("[daemon]\ncontrol_mode = 0o600\n");
  CHECK(error.message == R"(expected an octal file mode like "0600", got integer)");
}
