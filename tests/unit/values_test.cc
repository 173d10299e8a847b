// Durations, sizes, signals, enum names and default paths (config/values.cc).
#include <catch2/catch.hpp>

#include "tests/unit/scoped_env.h"

#include <unistd.h>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "config/config.h"

using namespace muster::config;
using namespace std::chrono_literals;

using muster::test::NoSchedulingEnv;
using muster::test::ScopedEnv;

namespace {}  // namespace

TEST_CASE("durations are sums of integers with ms, s, m or h") {
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("10s") == 10s);
  CHECK(parse_duration("1m30s") == 90s);
  CHECK(parse_duration("1h") == 1h);
  CHECK(parse_duration("1h2m3s4ms") == 1h + 2min + 3s + 4ms);
  CHECK(parse_duration("0s") == 0ms);
  CHECK(parse_duration("007s") == 7s);
}

TEST_CASE("durations without a unit, with spaces, signs or fractions are rejected") {
  for (const char* text : {"", "5", "s", "5 seconds", " 5s", "5s ", "5 s", "-1s", "+1s", "1.5s",
                           "5S", "5sec", "1d", "1m30", "ms5"}) {
    INFO(text);
    CHECK_FALSE(parse_duration(text));
  }
}

TEST_CASE("durations too long for milliseconds are rejected") {
  CHECK(parse_duration("9223372036854775807ms") == Duration(9223372036854775807));
  CHECK_FALSE(parse_duration("9223372036854775808ms"));
  CHECK_FALSE(parse_duration("3000000000000h"));
  CHECK_FALSE(parse_duration("99999999999999999999ms"));
  CHECK_FALSE(parse_duration("9223372036854775807ms1ms"));
}

TEST_CASE("formatted durations read back as the same duration") {
  CHECK(format_duration(0ms) == "0s");
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(90s) == "1m30s");
  CHECK(format_duration(1h + 1ms) == "1h1ms");
  for (Duration d : {Duration(1), Duration(999), Duration(61'001), Duration(86'400'000)}) {
    CHECK(parse_duration(format_duration(d)) == d);
  }
}

TEST_CASE("sizes are an integer with B, KiB, MiB or GiB") {
  CHECK(parse_size("0B") == 0u);
  CHECK(parse_size("10B") == 10u);
  CHECK(parse_size("1KiB") == 1024u);
  CHECK(parse_size("512MiB") == 512u * 1024 * 1024);
  CHECK(parse_size("1GiB") == 1024u * 1024 * 1024);
}

TEST_CASE("sizes in other units, cases or shapes are rejected") {
  for (const char* text : {"", "512", "MiB", "512mib", "512MB", "512M", "1.5GiB", "-1B", "1 MiB",
                           "1MiB ", "1KiB1B", "1TiB"}) {
    INFO(text);
    CHECK_FALSE(parse_size(text));
  }
}

TEST_CASE("sizes too large for 64 bits are rejected") {
  CHECK(parse_size("17179869183GiB") == 17179869183ull << 30);
  CHECK_FALSE(parse_size("17179869184GiB"));
  CHECK_FALSE(parse_size("18446744073709551616B"));
}

TEST_CASE("signals are named with or without SIG, in any case, or by number") {
  CHECK(parse_signal("SIGTERM") == 15);
  CHECK(parse_signal("TERM") == 15);
  CHECK(parse_signal("sigterm") == 15);
  CHECK(parse_signal("Term") == 15);
  CHECK(parse_signal("15") == 15);
  CHECK(parse_signal("SIGKILL") == 9);
  CHECK(parse_signal("hup") == 1);
  CHECK(parse_signal("SIGSTKFLT") == 16);
  CHECK(parse_signal("PWR") == 30);
  CHECK(parse_signal("SIG34") == 34);
}

TEST_CASE("unknown signal names and numbers out of range are rejected") {
  for (const char* text :
       {"", "SIG", "SIGFOO", "FOO", "0", "-1", "65", "15x", "SIG TERM", " TERM", "SIGSIGTERM"}) {
    INFO(text);
    CHECK_FALSE(parse_signal(text));
  }
}

TEST_CASE("signal names are the SIG names and read back as the same signal") {
  CHECK(signal_name(15) == "SIGTERM");
  CHECK(signal_name(9) == "SIGKILL");
  CHECK(signal_name(17) == "SIGCHLD");
  CHECK(signal_name(34) == "SIG34");
  for (int signo = 1; signo <= 64; ++signo) {
    INFO(signo);
    CHECK(parse_signal(signal_name(signo)) == signo);
  }
}

TEST_CASE("available parallelism counts at least one CPU and no more than exist") {
  unsigned cpus = available_parallelism();
  CHECK(cpus >= 1);
  if (std::thread::hardware_concurrency() > 0) CHECK(cpus <= std::thread::hardware_concurrency());
}

TEST_CASE("enum values are written as in the config file") {
  CHECK(std::string(to_string(LogLevel::warn)) == "warn");
  CHECK(std::string(to_string(LogFormat::json)) == "json");
  CHECK(std::string(to_string(Protocol::none)) == "none");
  CHECK(std::string(to_string(Protocol::node)) == "node");
  CHECK(std::string(to_string(Scheduling::rr)) == "rr");
  CHECK(std::string(to_string(Scheduling::none)) == "none");
  CHECK(std::string(to_string(Protocol::systemd)) == "systemd");
  CHECK(std::string(to_string(Scheduling::reuseport)) == "reuseport");
  CHECK(std::string(to_string(Ready::spawn)) == "spawn");
  CHECK(std::string(to_string(Ready::online)) == "online");
  CHECK(std::string(to_string(Ready::listening)) == "listening");
  CHECK(std::string(to_string(Ready::notify)) == "notify");
  CHECK(std::string(to_string(Ready::automatic)) == "auto");
  CHECK(std::string(to_string(Output::inherit)) == "inherit");
  CHECK(std::string(to_string(RestartMode::on_failure)) == "on-failure");
}

TEST_CASE("the config path defaults to MUSTER_CONFIG, then /etc/muster/muster.toml") {
  {
    ScopedEnv env("MUSTER_CONFIG", "/srv/muster.toml");
    CHECK(default_config_path() == "/srv/muster.toml");
  }
  ScopedEnv env("MUSTER_CONFIG", nullptr);
  CHECK(default_config_path() == "/etc/muster/muster.toml");
}

TEST_CASE("an error is written as file, line, column, key and message") {
  CHECK(ConfigError{"m.toml", 3, 9, "apps.web.restart", "bad"}.to_string() ==
        "m.toml:3:9: apps.web.restart: bad");
  CHECK(ConfigError{"m.toml", 0, 0, "", "cannot read: No such file or directory"}.to_string() ==
        "m.toml: cannot read: No such file or directory");
  CHECK(ConfigError{"m.toml", 0, 0, "apps", "bad"}.to_string() == "m.toml: apps: bad");
  CHECK(ConfigError{"m.toml", 2, 1, "", "syntax"}.to_string() == "m.toml:2:1: syntax");
}
