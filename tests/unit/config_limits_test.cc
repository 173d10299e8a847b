// What the text of a config alone shows can never run (config/apps.cc,
// config/section.cc, config/config.cc): NUL bytes, unix socket paths longer
// than sun_path, instances and output_keep above their bounds, the reserved
// app name "all"; and errors that show control characters escaped.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "config/config.h"
#include "tests/unit/config_support.h"

using namespace muster::config;
using muster::test::check_at;
using muster::test::kPath;
using muster::test::load_error;
using muster::test::load_ok;

namespace {

const std::string kWeb = "[apps.web]\nexec = \"x\"\n";

bool has_raw_control(const std::string& text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace

TEST_CASE("instances above 4096 are reported at the value") {
  CHECK(load_ok(kWeb + "instances = 4096\n").apps.at(0).instances == kMaxInstances);
  ConfigError error = load_error(kWeb + "instances = 4097\n");
  check_at(error, 3, 13, "apps.web.instances");
  CHECK(error.message == "expected a number of workers from 0 (one per CPU) to 4096, got 4097");
}

TEST_CASE("output_keep above 1000 is reported at the value") {
  CHECK(load_ok(kWeb + "output_keep = 1000\n").apps.at(0).output_keep == kMaxOutputKeep);
  CHECK(load_ok(kWeb + "output_keep = 0\n").apps.at(0).output_keep == 0);
  ConfigError error = load_error(kWeb + "output_keep = 1001\n");
  check_at(error, 3, 15, "apps.web.output_keep");
  CHECK(error.message == "expected a number of rotated files from 0 to 1000, got 1001");
}

TEST_CASE("an app named all is reported at its name: musterctl takes all for every app") {
  ConfigError error = load_error("[apps.all]\nexec = \"x\"\n");
  check_at(error, 1, 7, "apps.all");
  CHECK(error.message == R"(the app name "all" is reserved: musterctl takes it for every app)");
  load_ok("[apps.All]\nexec = \"x\"\n[apps.all-web]\nexec = \"x\"\n");
}

TEST_CASE("a NUL byte in an argument is reported at that argument") {
  ConfigError error = load_error(kWeb + "args = [\"a\", \"b\\u0000c\"]\n");
  check_at(error, 3, 14, "apps.web.args[1]");
  CHECK(error.message == R"(expected a string without NUL bytes, got "b\u0000c")");
}

TEST_CASE("a NUL byte in an environment value or name is reported there") {
  ConfigError error = load_error(kWeb + "env = { A = \"x\\u0000y\" }\n");
  check_at(error, 3, 13, "apps.web.env.A");
  CHECK(error.message == R"(expected a string without NUL bytes, got "x\u0000y")");

  error = load_error(kWeb + "env = { \"A\\u0000B\" = \"x\" }\n");
  check_at(error, 3, 9, "apps.web.env");
  CHECK(error.message ==
        R"(expected environment variable names without '=' or NUL bytes, got "A\u0000B")");
  error = load_error(kWeb + "env = { \"A=B\" = \"x\" }\n");
  CHECK(error.message ==
        R"(expected environment variable names without '=' or NUL bytes, got "A=B")");
}

TEST_CASE("a NUL byte in any other string is reported at the value") {
  ConfigError error = load_error(kWeb + "user = \"www\\u0000data\"\n");
  check_at(error, 3, 8, "apps.web.user");
  CHECK(error.message == R"(expected a string without NUL bytes, got "www\u0000data")");
  error = load_error("[apps.web]\nexec = \"/bin/true\\u0000x\"\n");
  check_at(error, 2, 8, "apps.web.exec");
}

TEST_CASE("a control_socket longer than sun_path allows is reported at the value") {
  const std::string fits = "/" + std::string(106, 's');  // 107 bytes and a NUL
  CHECK(load_ok("[daemon]\ncontrol_socket = \"" + fits + "\"\n").daemon.control_socket == fits);
  ConfigError error = load_error("[daemon]\ncontrol_socket = \"" + fits + "s\"\n");
  check_at(error, 2, 18, "daemon.control_socket");
  CHECK(error.message ==
        "expected a unix socket path of at most 107 bytes, got 108 bytes: \"" + fits + "s\"");
}

TEST_CASE("a relative control_socket is measured once resolved against the config's directory") {
  // kPath's directory, "/srv/site/", adds 10 bytes.
  load_ok("[daemon]\ncontrol_socket = \"" + std::string(97, 's') + "\"\n");
  ConfigError error = load_error("[daemon]\ncontrol_socket = \"" + std::string(98, 's') + "\"\n");
  check_at(error, 2, 18, "daemon.control_socket");
}

TEST_CASE("control characters in a name are shown escaped in every error about it") {
  LoadResult result = load_string("[apps.\"a\\u0001b\\nc\"]\nrestart = 1\n", kPath);
  REQUIRE(result.errors.size() == 3);  // the name, the missing exec, restart's type
  for (const ConfigError& error : result.errors) {
    INFO(error.to_string());
    CHECK_FALSE(has_raw_control(error.to_string()));
    CHECK(error.key.starts_with(R"(apps.a\u0001b\nc)"));
  }
  CHECK(result.errors[1].to_string() ==
        kPath + R"(:1:7: apps.a\u0001b\nc: expected an app name of letters, digits, '_', '.' )"
                R"(and '-', got "a\u0001b\nc")");
}

TEST_CASE("a socket name echoed in an app's error is shown escaped") {
  ConfigError error = load_error(
      "[apps.web]\nexec = \"x\"\nprotocol = \"node\"\n"
      "sockets = [\"s\\u0007\"]\n");
  check_at(error, 4, 12, "apps.web.sockets[0]");
  CHECK_FALSE(has_raw_control(error.to_string()));
  CHECK_THAT(error.message, Catch::Contains(R"(no socket named 's\u0007')"));
}

TEST_CASE("a file name with control characters is shown escaped") {
  LoadResult result = load_string("bogus = 1\n", "/srv/a\tb/muster.toml");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].to_string() == R"(/srv/a\tb/muster.toml:1:1: bogus: unknown key)");
}

TEST_CASE("the on-demand keys of a node app are read, with their defaults") {
  const std::string node = "[apps.web]\nexec = \"x\"\nprotocol = \"node\"\n";
  AppConfig plain = load_ok(node).apps.at(0);
  CHECK(plain.on_demand);
  CHECK(plain.max_on_demand_sockets == 64);
  CHECK(plain.on_demand_grace == std::chrono::seconds(10));
  AppConfig set = load_ok(node +
                          "on_demand = false\nmax_on_demand_sockets = 1024\n"
                          "on_demand_grace = \"0s\"\n")
                      .apps.at(0);
  CHECK_FALSE(set.on_demand);
  CHECK(set.max_on_demand_sockets == kMaxOnDemandSockets);
  CHECK(set.on_demand_grace == Duration::zero());
}

TEST_CASE("max_on_demand_sockets outside 1 to 1024 is reported at the value") {
  const std::string node = "[apps.web]\nexec = \"x\"\nprotocol = \"node\"\n";
  for (const char* value : {"0", "1025"}) {
    ConfigError error = load_error(node + "max_on_demand_sockets = " + value + "\n");
    check_at(error, 4, 25, "apps.web.max_on_demand_sockets");
    CHECK(error.message == std::string("expected a number of sockets from 1 to 1024 "
                                       "(on_demand = false refuses every one), got ") +
                               value);
  }
}

TEST_CASE("the on-demand keys are errors for an app that is not a node app") {
  ConfigError error = load_error(kWeb + "on_demand = false\n");
  check_at(error, 3, 13, "apps.web.on_demand");
  CHECK(error.message == R"(only used with protocol "node", but protocol is "none")");
  error = load_error(kWeb + "protocol = \"systemd\"\non_demand_grace = \"1s\"\n");
  check_at(error, 4, 19, "apps.web.on_demand_grace");
}
