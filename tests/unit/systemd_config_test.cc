// Config keys for any server (issue 4): systemd-protocol apps, scheduling
// "reuseport", readiness and watchdog, unix socket ownership and reuseport
// (config/apps.cc, config/sockets.cc).
#include <catch2/catch.hpp>

#include "tests/unit/scoped_env.h"

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "tests/unit/config_support.h"
#include "tests/unit/systemd_config_support.h"

using namespace muster::config;
using muster::test::check_at;
using muster::test::kPath;
using muster::test::load_error;
using muster::test::load_ok;
using namespace std::chrono_literals;

using muster::test::NoSchedulingEnv;
using muster::test::ScopedEnv;

using muster::test::app;
using muster::test::kTwoSockets;
using muster::test::kWebSocket;

namespace {

// Two sockets with every systemd-facing key, and two systemd apps on them.
const std::string kFullSystemdConfig = R"([sockets.web]
listen = "[::]:8000"
reuseport = true

[sockets.admin]
listen = "unix:run/admin.sock"
mode = "0600"
owner = "root"
group = "root"

[apps.web]
exec = "/usr/sbin/server"
instances = 4
protocol = "systemd"
sockets = ["web"]
scheduling = "reuseport"
ready = "notify"
ready_timeout = "1m"
watchdog = "10s"

[apps.admin]
exec = "/usr/sbin/admin"
protocol = "systemd"
sockets = ["admin", "web"]
ready = "spawn"
)";

}  // namespace

// [sockets.NAME]: reuseport, owner, group

TEST_CASE("a socket's reuseport is true or false, false by default") {
  CHECK_FALSE(load_ok(kWebSocket).sockets.at(0).reuseport);
  CHECK(load_ok(kWebSocket + "reuseport = true\n").sockets.at(0).reuseport);
  CHECK_FALSE(load_ok(kWebSocket + "reuseport = false\n").sockets.at(0).reuseport);
  // SO_REUSEPORT is a socket option of unix sockets too.
  CHECK(load_ok("[sockets.api]\nlisten = \"unix:api.sock\"\nreuseport = true\n")
            .sockets.at(0)
            .reuseport);
  ConfigError error = load_error(kWebSocket + "reuseport = \"yes\"\n");
  check_at(error, 3, 13, "sockets.web.reuseport");
  CHECK(error.message == "expected true or false, got string");
}

TEST_CASE("a unix socket's owner and group are existing names, empty by default") {
  const SocketConfig defaults =
      load_ok("[sockets.api]\nlisten = \"unix:api.sock\"\n").sockets.at(0);
  CHECK(defaults.owner.empty());
  CHECK(defaults.group.empty());
  Config config =
      load_ok("[sockets.api]\nlisten = \"unix:api.sock\"\nowner = \"root\"\ngroup = \"root\"\n");
  CHECK(config.sockets.at(0).owner == "root");
  CHECK(config.sockets.at(0).group == "root");
  // Empty means musterd's own, as when absent.
  load_ok("[sockets.api]\nlisten = \"unix:api.sock\"\nowner = \"\"\ngroup = \"\"\n");
}

TEST_CASE("a unix socket's owner or group that does not exist is reported at the value") {
  const std::string owner =
      "[sockets.api]\nlisten = \"unix:api.sock\"\nowner = \"no-such-user-muster\"\n";
  ConfigError error = load_error(owner, HostChecks::run);
  check_at(error, 3, 9, "sockets.api.owner");
  CHECK(error.message == R"(no user named "no-such-user-muster" on this host)");
  load_ok(owner);  // the host is not asked by default
  error =
      load_error("[sockets.api]\nlisten = \"unix:api.sock\"\ngroup = \"no-such-group-muster\"\n",
                 HostChecks::run);
  check_at(error, 3, 9, "sockets.api.group");
  CHECK(error.message == R"(no group named "no-such-group-muster" on this host)");
  error = load_error("[sockets.api]\nlisten = \"unix:api.sock\"\nowner = 0\n");
  check_at(error, 3, 9, "sockets.api.owner");
  CHECK(error.message == "expected a string, got integer");
}

TEST_CASE("an owner or group on a TCP socket is reported at the value") {
  ConfigError error = load_error(kWebSocket + "owner = \"root\"\n");
  check_at(error, 3, 9, "sockets.web.owner");
  CHECK(error.message == R"(only used with unix sockets, but listen is "0.0.0.0:8000")");
  error = load_error(kWebSocket + "group = \"root\"\n");
  check_at(error, 3, 9, "sockets.web.group");
  CHECK(error.message == R"(only used with unix sockets, but listen is "0.0.0.0:8000")");
  // One error per value: an unknown name on a TCP socket is only misplaced.
  error = load_error(kWebSocket + "owner = \"no-such-user-muster\"\n");
  CHECK(error.message == R"(only used with unix sockets, but listen is "0.0.0.0:8000")");
}

// A systemd app as a whole

TEST_CASE("a full systemd app config is read into the structs") {
  NoSchedulingEnv env;
  Config config = load_ok(kFullSystemdConfig);
  REQUIRE(config.sockets.size() == 2);
  SocketConfig web;
  web.name = "web";
  web.listen = "[::]:8000";
  web.family = SocketConfig::Family::ipv6;
  web.host = "::";
  web.port = 8000;
  web.reuseport = true;
  CHECK(config.sockets[0] == web);
  SocketConfig admin;
  admin.name = "admin";
  admin.listen = "unix:run/admin.sock";
  admin.family = SocketConfig::Family::unix_path;
  admin.path = "/srv/site/run/admin.sock";
  admin.mode = 0600;
  admin.owner = "root";
  admin.group = "root";
  CHECK(config.sockets[1] == admin);

  REQUIRE(config.apps.size() == 2);
  AppConfig expected;
  expected.name = "web";
  expected.exec = "/usr/sbin/server";
  expected.cwd = "/srv/site";
  expected.instances = 4;
  expected.protocol = Protocol::systemd;
  expected.sockets = {"web"};
  expected.scheduling = Scheduling::reuseport;
  expected.ready = Ready::notify;
  expected.ready_timeout = 1min;
  expected.watchdog = 10s;
  CHECK(config.apps[0] == expected);

  const AppConfig& other = config.apps[1];
  CHECK(other.protocol == Protocol::systemd);
  CHECK(other.sockets == std::vector<std::string>{"admin", "web"});
  CHECK(other.scheduling == Scheduling::none);
  CHECK(other.ready == Ready::spawn);
  CHECK(other.ready_timeout == 30s);
  CHECK(other.watchdog == 0ms);
}

TEST_CASE("a systemd app without sockets is a notify-only service") {
  NoSchedulingEnv env;
  const AppConfig web = load_ok(app("systemd")).apps.at(0);
  CHECK(web.protocol == Protocol::systemd);
  CHECK(web.sockets.empty());
  CHECK(web.scheduling == Scheduling::none);
  CHECK(web.ready == Ready::notify);
  load_ok(app("systemd", "sockets = []\nscheduling = \"none\"\nwatchdog = \"5s\"\n"));
}

// Scheduling

// A systemd app and a node app on one socket (O_NONBLOCK is the socket's,
// shared by all who hold it: allowed only with nonblocking = true).
const std::string kSharedWeb = R"([apps.sd]
exec = "x"
protocol = "systemd"
sockets = ["web"]
[apps.node]
exec = "x"
protocol = "node"
sockets = ["web"]
)";

TEST_CASE("a systemd app's default scheduling is none whatever the environment says") {
  auto schedulings_with = [](const char* muster_value, const char* node_value) {
    ScopedEnv muster("MUSTER_SCHED_POLICY", muster_value);
    ScopedEnv node("NODE_CLUSTER_SCHED_POLICY", node_value);
    // nonblocking: a node app may share the socket only then (see below).
    Config config = load_ok(kWebSocket + "nonblocking = true\n" + kSharedWeb);
    return std::vector<Scheduling>{config.apps.at(0).scheduling, config.apps.at(1).scheduling};
  };
  using S = Scheduling;
  CHECK(schedulings_with(nullptr, nullptr) == std::vector<S>{S::none, S::rr});
  CHECK(schedulings_with("rr", nullptr) == std::vector<S>{S::none, S::rr});
  CHECK(schedulings_with(nullptr, "rr") == std::vector<S>{S::none, S::rr});
  CHECK(schedulings_with("none", nullptr) == std::vector<S>{S::none, S::none});
  CHECK(schedulings_with(nullptr, "none") == std::vector<S>{S::none, S::none});
}

TEST_CASE("a socket a systemd app gets blocking cannot serve a node app too") {
  NoSchedulingEnv env;
  ConfigError error = load_error(kWebSocket + kSharedWeb);
  check_at(error, 10, 12, "apps.node.sockets[0]");
  CHECK(error.message.find("sockets.web is also used by apps.sd") != std::string::npos);
  CHECK(error.message.find("set nonblocking = true in [sockets.web]") != std::string::npos);
}

TEST_CASE("nonblocking is off by default and lets a node app share the socket") {
  NoSchedulingEnv env;
  CHECK_FALSE(load_ok(kWebSocket).sockets.at(0).nonblocking);
  Config config = load_ok(kWebSocket + "nonblocking = true\n" + kSharedWeb);
  CHECK(config.sockets.at(0).nonblocking);
  // Two systemd apps (both blocking) share a socket freely.
  load_ok(kWebSocket + app("systemd", "sockets = [\"web\"]\n") +
          "[apps.other]\nexec = \"x\"\nprotocol = \"systemd\"\nsockets = [\"web\"]\n");
}

TEST_CASE("a systemd app takes scheduling none or reuseport but not rr") {
  NoSchedulingEnv env;
  CHECK(load_ok(kWebSocket + app("systemd", "sockets = [\"web\"]\nscheduling = \"none\"\n"))
            .apps.at(0)
            .scheduling == Scheduling::none);
  CHECK(load_ok(kWebSocket + app("systemd", "sockets = [\"web\"]\nscheduling = \"reuseport\"\n"))
            .apps.at(0)
            .scheduling == Scheduling::reuseport);
  ConfigError error =
      load_error(kWebSocket + app("systemd", "sockets = [\"web\"]\nscheduling = \"rr\"\n"));
  check_at(error, 7, 14, "apps.web.scheduling");
  CHECK(error.message == R"(protocol "systemd" supports scheduling "none" or "reuseport")");
  // Also without sockets, and whatever the environment says.
  ScopedEnv muster("MUSTER_SCHED_POLICY", "none");
  error = load_error(app("systemd", "scheduling = \"rr\"\n"));
  check_at(error, 4, 14, "apps.web.scheduling");
  CHECK(error.message == R"(protocol "systemd" supports scheduling "none" or "reuseport")");
}

TEST_CASE("a node app takes scheduling reuseport with TCP sockets") {
  NoSchedulingEnv env;
  Config config = load_ok(kWebSocket + "[sockets.v6]\nlisten = \"[::1]:0\"\n" +
                          app("node", "sockets = [\"web\", \"v6\"]\nscheduling = \"reuseport\"\n"));
  CHECK(config.apps.at(0).scheduling == Scheduling::reuseport);
  CHECK(config.apps.at(0).ready == Ready::automatic);
}

TEST_CASE("scheduling reuseport with protocol none is reported at the scheduling") {
  NoSchedulingEnv env;
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\nscheduling = \"reuseport\"\n");
  check_at(error, 3, 14, "apps.web.scheduling");
  CHECK(error.message ==
        R"(scheduling "reuseport" needs protocol "node" or "systemd", but protocol is "none")");
  error = load_error(app("none", "scheduling = \"reuseport\"\n"));
  check_at(error, 4, 14, "apps.web.scheduling");
}

TEST_CASE("scheduling reuseport without sockets is reported at the scheduling") {
  NoSchedulingEnv env;
  for (const char* protocol : {"node", "systemd"}) {
    INFO(protocol);
    ConfigError error = load_error(app(protocol, "scheduling = \"reuseport\"\n"));
    check_at(error, 4, 14, "apps.web.scheduling");
    CHECK(error.message == R"(scheduling "reuseport" needs at least one TCP socket in sockets)");
    error = load_error(app(protocol, "sockets = []\nscheduling = \"reuseport\"\n"));
    check_at(error, 5, 14, "apps.web.scheduling");
  }
}

TEST_CASE("scheduling reuseport with a unix socket is reported at that socket's name") {
  NoSchedulingEnv env;
  ConfigError error = load_error(
      kTwoSockets + app("systemd", "sockets = [\"web\", \"admin\"]\nscheduling = \"reuseport\"\n"));
  check_at(error, 8, 19, "apps.web.sockets[1]");
  CHECK(error.message ==
        R"(scheduling "reuseport" takes TCP sockets only, but sockets.admin is "unix:admin.sock")");

  // Every unix socket is named, and the scheduling may come first.
  LoadResult result = load_string(
      kTwoSockets + "[sockets.other]\nlisten = \"unix:/run/other.sock\"\n" +
          app("node", "scheduling = \"reuseport\"\nsockets = [\"admin\", \"web\", \"other\"]\n"),
      kPath);
  std::vector<std::string> found;
  for (const ConfigError& e : result.errors) found.push_back(e.to_string());
  CHECK(
      found ==
      std::vector<std::string>{
          kPath +
              R"(:11:12: apps.web.sockets[0]: scheduling "reuseport" takes TCP sockets only, but sockets.admin is "unix:admin.sock")",
          kPath +
              R"(:11:28: apps.web.sockets[2]: scheduling "reuseport" takes TCP sockets only, but sockets.other is "unix:/run/other.sock")",
      });
}

TEST_CASE("scheduling reuseport adds no error to a socket that has its own") {
  NoSchedulingEnv env;
  // Undeclared.
  ConfigError error = load_error(app("node", "sockets = [\"api\"]\nscheduling = \"reuseport\"\n"));
  check_at(error, 4, 12, "apps.web.sockets[0]");
  CHECK(error.message == "no socket named 'api' is declared (declare [sockets.api])");
  // Declared with a bad address.
  error = load_error("[sockets.web]\nlisten = \"unix:\"\n" +
                     app("node", "sockets = [\"web\"]\nscheduling = \"reuseport\"\n"));
  check_at(error, 2, 10, "sockets.web.listen");
  // Listed twice: the second is only a duplicate.
  LoadResult result = load_string(
      kTwoSockets + app("node", "sockets = [\"admin\", \"admin\"]\nscheduling = \"reuseport\"\n"),
      kPath);
  REQUIRE(result.errors.size() == 2);
  check_at(result.errors[0], 8, 12, "apps.web.sockets[0]");
  check_at(result.errors[1], 8, 21, "apps.web.sockets[1]");
  CHECK(result.errors[1].message == "expected each socket once, got 'admin' again");
}
