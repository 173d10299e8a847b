// [apps.NAME] inspect (config/inspect.cc).
#include <catch2/catch.hpp>

#include <string>

#include "config/config.h"
#include "tests/unit/config_support.h"

using namespace muster::config;
using muster::test::check_at;
using muster::test::load_error;
using muster::test::load_ok;

namespace {
const std::string kNode = "[apps.web]\nexec = \"x\"\nprotocol = \"node\"\ninstances = 2\n";
}  // namespace

TEST_CASE("inspect is off unless set", "[config][inspect]") {
  AppConfig app = load_ok(kNode).apps.at(0);
  CHECK_FALSE(app.inspect);
  CHECK_FALSE(inspector_address(app, 0));
  CHECK_FALSE(load_ok(kNode + "inspect = \"\"\n").apps.at(0).inspect);
}

TEST_CASE("each instance's inspector is on the inspect port plus its instance",
          "[config][inspect]") {
  AppConfig app = load_ok(kNode + "inspect = \"127.0.0.1:9229\"\n").apps.at(0);
  REQUIRE(app.inspect);
  CHECK(inspector_address(app, 0) == "127.0.0.1:9229");
  CHECK(inspector_address(app, 1) == "127.0.0.1:9230");
  // A runtime scale beyond the range checked at load gets its own ports too.
  CHECK(inspector_address(app, 7) == "127.0.0.1:9236");
  AppConfig v6 = load_ok(kNode + "inspect = \"[::1]:9300\"\n").apps.at(0);
  CHECK(inspector_address(v6, 1) == "[::1]:9301");
  AppConfig local = load_ok(kNode + "inspect = \"localhost:9229\"\n").apps.at(0);
  CHECK(inspector_address(local, 0) == "127.0.0.1:9229");
}

TEST_CASE("an inspector port past 65535 has no address", "[config][inspect]") {
  AppConfig app = load_ok(
                      "[apps.web]\nexec = \"x\"\nprotocol = \"node\"\n"
                      "inspect = \"127.0.0.1:65535\"\n")
                      .apps.at(0);
  CHECK(inspector_address(app, 0) == "127.0.0.1:65535");
  CHECK_FALSE(inspector_address(app, 1));
}

TEST_CASE("inspect needs protocol node", "[config][inspect]") {
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\ninspect = \"127.0.0.1:9229\"\n");
  check_at(error, 3, 11, "apps.web.inspect");
  CHECK(error.message == R"(opens Node's inspector in each worker: needs protocol "node", but )"
                         R"(protocol is "none")");
  error = load_error(
      "[apps.web]\nexec = \"x\"\nprotocol = \"systemd\"\n"
      "inspect = \"127.0.0.1:9229\"\n");
  check_at(error, 4, 11, "apps.web.inspect");
}

TEST_CASE("a bad inspect address is reported at the value", "[config][inspect]") {
  for (const char* bad : {"9229", "unix:/run/x.sock", "127.0.0.1:0", "127.0.0.1:70000",
                          "example.com:9229", "::1:9229"}) {
    INFO(bad);
    ConfigError error = load_error(kNode + "inspect = \"" + bad + "\"\n");
    check_at(error, 5, 11, "apps.web.inspect");
    CHECK(error.message ==
          std::string(R"(expected a TCP address like "127.0.0.1:9229" or "[::1]:9229" (the )"
                      R"(first worker's inspector), got ")") +
              bad + "\"");
  }
  ConfigError error = load_error(kNode + "inspect = 9229\n");
  check_at(error, 5, 11, "apps.web.inspect");
}

TEST_CASE("the last inspector port must be at most 65535", "[config][inspect]") {
  ConfigError error = load_error(kNode + "inspect = \"127.0.0.1:65535\"\n");
  check_at(error, 5, 11, "apps.web.inspect");
  CHECK(error.message == R"(inspect = "127.0.0.1:65535" takes ports 65535-65536 (2 instances), )"
                         "past 65535: lower the port or the instances");
  CHECK(load_ok(kNode + "inspect = \"127.0.0.1:65534\"\n").apps.at(0).inspect->port == 65534);
}

TEST_CASE("an inspect range holding a declared socket's port is refused", "[config][inspect]") {
  const std::string socket = "[sockets.http]\nlisten = \"0.0.0.0:9230\"\n";
  ConfigError error = load_error(socket + kNode + "inspect = \"127.0.0.1:9229\"\n");
  check_at(error, 7, 11, "apps.web.inspect");
  CHECK(error.message == R"(inspect = "127.0.0.1:9229" takes ports 9229-9230 (2 instances), )"
                         R"(but sockets.http listens on "0.0.0.0:9230")");
  // Another port, or an address that cannot collide, is fine.
  load_ok(socket + kNode + "inspect = \"127.0.0.1:9231\"\n");
  load_ok("[sockets.http]\nlisten = \"127.0.0.2:9230\"\n" + kNode +
          "inspect = \"127.0.0.1:9229\"\n");
  load_ok("[sockets.http]\nlisten = \"unix:/run/x.sock\"\n" + kNode +
          "inspect = \"127.0.0.1:9229\"\n");
  // "::" takes IPv4 addresses too.
  error = load_error("[sockets.http]\nlisten = \"[::]:9229\"\n" + kNode +
                     "inspect = \"127.0.0.1:9229\"\n");
  check_at(error, 7, 11, "apps.web.inspect");
}

TEST_CASE("an inspect range holding metrics_listen's port is refused", "[config][inspect]") {
  ConfigError error = load_error("[daemon]\nmetrics_listen = \"127.0.0.1:9230\"\n" + kNode +
                                 "inspect = \"127.0.0.1:9229\"\n");
  check_at(error, 7, 11, "apps.web.inspect");
  CHECK(error.message == R"(inspect = "127.0.0.1:9229" takes ports 9229-9230 (2 instances), )"
                         R"(but metrics_listen is "127.0.0.1:9230")");
}

TEST_CASE("two apps' inspect ranges may not overlap", "[config][inspect]") {
  const std::string other =
      "[apps.api]\nexec = \"x\"\nprotocol = \"node\"\ninspect = \"0.0.0.0:9230\"\n";
  ConfigError error = load_error(kNode + "inspect = \"127.0.0.1:9229\"\n" + other);
  check_at(error, 9, 11, "apps.api.inspect");
  CHECK(error.message == R"(inspect = "0.0.0.0:9230" takes port 9230, which overlaps apps.web's )"
                         R"(inspect = "127.0.0.1:9229" takes ports 9229-9230 (2 instances))");
  load_ok(kNode + "inspect = \"127.0.0.1:9229\"\n" +
          "[apps.api]\nexec = \"x\"\nprotocol = \"node\"\ninspect = \"127.0.0.1:9231\"\n");
}

TEST_CASE("a runtime scale is checked against the same ranges", "[config][inspect]") {
  Config config = load_ok("[sockets.http]\nlisten = \"127.0.0.1:9240\"\n" + kNode +
                          "inspect = \"127.0.0.1:9229\"\n");
  const AppConfig& app = config.apps.at(0);
  CHECK_FALSE(inspect_range_problem(app, 11, config));
  CHECK(inspect_range_problem(app, 12, config) ==
        R"(inspect = "127.0.0.1:9229" takes ports 9229-9240 (12 instances), )"
        R"(but sockets.http listens on "127.0.0.1:9240")");
  AppConfig plain = load_ok("[apps.web]\nexec = \"x\"\n").apps.at(0);
  CHECK_FALSE(inspect_range_problem(plain, 100, config));
}
