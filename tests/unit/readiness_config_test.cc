// Readiness keys (issue 4): ready, ready_timeout and watchdog, by protocol
// (config/apps.cc). The other systemd-facing keys: systemd_config_test.cc.
#include <catch2/catch.hpp>

#include "tests/unit/scoped_env.h"

#include <string>
#include <vector>

#include "config/config.h"
#include "tests/unit/config_support.h"
#include "tests/unit/systemd_config_support.h"

using namespace muster::config;
using muster::test::app;
using muster::test::check_at;
using muster::test::kPath;
using muster::test::kTwoSockets;
using muster::test::kWebSocket;
using muster::test::load_error;
using muster::test::load_ok;
using muster::test::NoSchedulingEnv;
using namespace std::chrono_literals;

// Readiness

TEST_CASE("ready, ready_timeout and watchdog default by protocol") {
  NoSchedulingEnv env;
  Config config = load_ok(R"([apps.plain]
exec = "x"
[apps.node]
exec = "x"
protocol = "node"
[apps.sd]
exec = "x"
protocol = "systemd"
[apps.none]
exec = "x"
protocol = "none"
)");
  REQUIRE(config.apps.size() == 4);
  CHECK(config.apps[0].ready == Ready::spawn);
  CHECK(config.apps[1].ready == Ready::automatic);
  CHECK(config.apps[2].ready == Ready::notify);
  CHECK(config.apps[3].ready == Ready::spawn);
  for (const AppConfig& each : config.apps) {
    INFO(each.name);
    CHECK(each.ready_timeout == 30s);
    CHECK(each.watchdog == 0ms);
  }
}

TEST_CASE("ready is spawn, online, listening, notify or auto") {
  ConfigError error = load_error(app("node", "ready = \"started\"\n"));
  check_at(error, 4, 9, "apps.web.ready");
  CHECK(error.message ==
        R"(expected one of spawn, online, listening, notify, auto, got "started")");
  error = load_error(app("node", "ready = true\n"));
  check_at(error, 4, 9, "apps.web.ready");
  CHECK(error.message == "expected one of spawn, online, listening, notify, auto, got boolean");
}

TEST_CASE("ready spawn goes with any protocol") {
  for (const char* protocol : {"none", "node", "systemd"}) {
    INFO(protocol);
    CHECK(load_ok(app(protocol, "ready = \"spawn\"\n")).apps.at(0).ready == Ready::spawn);
  }
}

TEST_CASE("ready online or listening goes with protocol node only") {
  CHECK(load_ok(app("node", "ready = \"online\"\n")).apps.at(0).ready == Ready::online);
  CHECK(load_ok(app("node", "ready = \"listening\"\n")).apps.at(0).ready == Ready::listening);
  CHECK(load_ok(app("node", "ready = \"auto\"\n")).apps.at(0).ready == Ready::automatic);
  CHECK(load_error(app("systemd", "ready = \"auto\"\n")).message ==
        R"(ready "auto" needs protocol "node", but protocol is "systemd")");
  ConfigError error = load_error(app("systemd", "ready = \"listening\"\n"));
  check_at(error, 4, 9, "apps.web.ready");
  CHECK(error.message == R"(ready "listening" needs protocol "node", but protocol is "systemd")");
  error = load_error(app("none", "ready = \"online\"\n"));
  check_at(error, 4, 9, "apps.web.ready");
  CHECK(error.message == R"(ready "online" needs protocol "node", but protocol is "none")");
  error = load_error("[apps.web]\nexec = \"x\"\nready = \"listening\"\n");
  check_at(error, 3, 9, "apps.web.ready");
  CHECK(error.message == R"(ready "listening" needs protocol "node", but protocol is "none")");
}

TEST_CASE("ready notify goes with protocol systemd only") {
  CHECK(load_ok(app("systemd", "ready = \"notify\"\n")).apps.at(0).ready == Ready::notify);
  ConfigError error = load_error(app("node", "ready = \"notify\"\n"));
  check_at(error, 4, 9, "apps.web.ready");
  CHECK(error.message == R"(ready "notify" needs protocol "systemd", but protocol is "node")");
  error = load_error(app("none", "ready = \"notify\"\n"));
  check_at(error, 4, 9, "apps.web.ready");
  CHECK(error.message == R"(ready "notify" needs protocol "systemd", but protocol is "none")");
}

TEST_CASE("ready_timeout is a duration above zero") {
  CHECK(load_ok(app("systemd", "ready_timeout = \"250ms\"\n")).apps.at(0).ready_timeout == 250ms);
  ConfigError error = load_error(app("systemd", "ready_timeout = \"0s\"\n"));
  check_at(error, 4, 17, "apps.web.ready_timeout");
  CHECK(error.message == R"(expected a duration above zero like "30s", got "0s")");
  error = load_error(app("node", "ready_timeout = \"0ms\"\n"));
  CHECK(error.message == R"(expected a duration above zero like "30s", got "0ms")");
  error = load_error(app("node", "ready_timeout = 30\n"));
  check_at(error, 4, 17, "apps.web.ready_timeout");
  CHECK(error.message == R"(expected a duration like "250ms" or "1m30s", got integer)");
}

// Watchdog

TEST_CASE("a watchdog is a duration, zero meaning off") {
  CHECK(load_ok(app("systemd", "watchdog = \"1m30s\"\n")).apps.at(0).watchdog == 90s);
  CHECK(load_ok(app("systemd", "watchdog = \"0s\"\n")).apps.at(0).watchdog == 0ms);
  ConfigError error = load_error(app("systemd", "watchdog = \"often\"\n"));
  check_at(error, 4, 12, "apps.web.watchdog");
  CHECK(error.message == R"(expected a duration like "250ms" or "1m30s", got "often")");
}

TEST_CASE("a watchdog other than zero goes with protocol systemd only") {
  ConfigError error = load_error(app("node", "watchdog = \"10s\"\n"));
  check_at(error, 4, 12, "apps.web.watchdog");
  CHECK(error.message == R"(only used with protocol "systemd", but protocol is "node")");
  error = load_error("[apps.web]\nexec = \"x\"\nwatchdog = \"1s\"\n");
  check_at(error, 3, 12, "apps.web.watchdog");
  CHECK(error.message == R"(only used with protocol "systemd", but protocol is "none")");
  // "0s" is off, as when absent.
  load_ok(app("node", "watchdog = \"0s\"\n"));
  load_ok(app("none", "watchdog = \"0ms\"\n"));
}

// Together

TEST_CASE("a bad protocol adds no errors to the keys that depend on it") {
  NoSchedulingEnv env;
  ConfigError error =
      load_error(kWebSocket + app("sd",
                                  "sockets = [\"web\"]\nscheduling = \"rr\"\nready = \"notify\"\n"
                                  "watchdog = \"10s\"\n"));
  check_at(error, 5, 12, "apps.web.protocol");
  CHECK(error.message == R"(expected one of none, node, systemd, got "sd")");
}

TEST_CASE("every error of a systemd app is reported in one pass, in file order") {
  NoSchedulingEnv env;
  LoadResult result = load_string(kTwoSockets + R"([apps.web]
exec = "x"
protocol = "systemd"
watchdog = "10"
sockets = ["admin"]
scheduling = "reuseport"
ready = "online"
ready_timeout = "0s"
[apps.node]
exec = "x"
protocol = "node"
scheduling = "rr"
ready = "notify"
watchdog = "5s"
)",
                                  kPath);
  CHECK_FALSE(result.config);
  std::vector<std::string> found;
  for (const ConfigError& error : result.errors) found.push_back(error.to_string());
  CHECK(
      found ==
      std::vector<std::string>{
          kPath +
              R"(:8:12: apps.web.watchdog: expected a duration like "250ms" or "1m30s", got "10")",
          kPath +
              R"(:9:12: apps.web.sockets[0]: scheduling "reuseport" takes TCP sockets only, but sockets.admin is "unix:admin.sock")",
          kPath +
              R"(:11:9: apps.web.ready: ready "online" needs protocol "node", but protocol is "systemd")",
          kPath +
              R"(:12:17: apps.web.ready_timeout: expected a duration above zero like "30s", got "0s")",
          kPath +
              R"(:17:9: apps.node.ready: ready "notify" needs protocol "systemd", but protocol is "node")",
          kPath +
              R"(:18:12: apps.node.watchdog: only used with protocol "systemd", but protocol is "node")",
      });
}
