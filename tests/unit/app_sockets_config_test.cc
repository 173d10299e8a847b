// The sockets an app uses and how their connections are scheduled
// (config/apps.cc). The sockets themselves: sockets_config_test.cc.
#include <catch2/catch.hpp>

#include "tests/unit/scoped_env.h"

#include <string>
#include <vector>

#include "config/config.h"
#include "tests/unit/config_support.h"

using namespace muster::config;
using muster::test::check_at;
using muster::test::kPath;
using muster::test::kWebSocket;
using muster::test::load_error;
using muster::test::load_ok;
using muster::test::NoSchedulingEnv;
using muster::test::ScopedEnv;
using namespace std::chrono_literals;

TEST_CASE("an app naming an undeclared socket is reported at that name") {
  ConfigError error = load_error(
      kWebSocket + "[apps.web]\nexec = \"x\"\nprotocol = \"node\"\nsockets = [\"web\", \"api\"]\n");
  check_at(error, 6, 19, "apps.web.sockets[1]");
  CHECK(error.message == "no socket named 'api' is declared (declare [sockets.api])");
}

TEST_CASE("a socket that is declared with errors is still declared for apps") {
  ConfigError error = load_error(
      "[sockets.web]\nlisten = \"8000\"\n[apps.web]\nexec = \"x\"\n"
      "protocol = \"node\"\nsockets = [\"web\"]\n");
  check_at(error, 2, 10, "sockets.web.listen");
}

TEST_CASE("a socket listed twice by one app is reported at the second") {
  ConfigError error = load_error(
      kWebSocket + "[apps.web]\nexec = \"x\"\nprotocol = \"node\"\nsockets = [\"web\", \"web\"]\n");
  check_at(error, 6, 19, "apps.web.sockets[1]");
  CHECK(error.message == "expected each socket once, got 'web' again");
}

TEST_CASE("an app's sockets are an array of strings") {
  ConfigError error =
      load_error(kWebSocket + "[apps.web]\nexec = \"x\"\nprotocol = \"node\"\nsockets = \"web\"\n");
  check_at(error, 6, 11, "apps.web.sockets");
  CHECK(error.message == "expected an array of strings, got string");
}

TEST_CASE("an app with protocol none takes no sockets") {
  ConfigError error = load_error(kWebSocket + "[apps.web]\nexec = \"x\"\nsockets = [\"web\"]\n");
  check_at(error, 5, 11, "apps.web.sockets");
  CHECK(error.message == R"(protocol none takes no sockets (set protocol = "node" or "systemd"))");
  error = load_error(kWebSocket +
                     "[apps.web]\nexec = \"x\"\nprotocol = \"none\"\nsockets = [\"web\"]\n");
  check_at(error, 6, 11, "apps.web.sockets");
  load_ok("[apps.web]\nexec = \"x\"\nprotocol = \"none\"\nsockets = []\n");
}

TEST_CASE("scheduling is rr, none or reuseport") {
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\nscheduling = \"fair\"\n");
  check_at(error, 3, 14, "apps.web.scheduling");
  CHECK(error.message == R"(expected one of rr, none, reuseport, got "fair")");
}

TEST_CASE("max_pending is a non-negative integer and pending_timeout a duration") {
  ConfigError error = load_error("[apps.web]\nexec = \"x\"\nmax_pending = -1\n");
  check_at(error, 3, 15, "apps.web.max_pending");
  CHECK(error.message == "expected a non-negative integer, got -1");
  error = load_error("[apps.web]\nexec = \"x\"\npending_timeout = \"soon\"\n");
  check_at(error, 3, 19, "apps.web.pending_timeout");
  CHECK(error.message == R"(expected a duration like "250ms" or "1m30s", got "soon")");
}

TEST_CASE(
    "the default scheduling comes from MUSTER_SCHED_POLICY, then NODE_CLUSTER_SCHED_POLICY, then "
    "rr") {
  auto default_with = [](const char* muster_value, const char* node_value) {
    ScopedEnv muster("MUSTER_SCHED_POLICY", muster_value);
    ScopedEnv node("NODE_CLUSTER_SCHED_POLICY", node_value);
    return load_ok("[apps.a]\nexec = \"x\"\n").apps.at(0).scheduling;
  };
  CHECK(default_with(nullptr, nullptr) == Scheduling::rr);
  CHECK(default_with(nullptr, "none") == Scheduling::none);
  CHECK(default_with("none", "rr") == Scheduling::none);
  CHECK(default_with("rr", "bogus") == Scheduling::rr);  // NODE_... is not consulted
  CHECK(default_with("", "none") == Scheduling::none);   // empty is unset
}

TEST_CASE("a scheduling set in the file wins over the environment") {
  ScopedEnv muster("MUSTER_SCHED_POLICY", "none");
  CHECK(load_ok("[apps.a]\nexec = \"x\"\nscheduling = \"rr\"\n").apps.at(0).scheduling ==
        Scheduling::rr);
}

TEST_CASE("a bad scheduling policy in the environment is one error without a position") {
  auto error_with = [](const char* muster_value, const char* node_value) {
    ScopedEnv muster("MUSTER_SCHED_POLICY", muster_value);
    ScopedEnv node("NODE_CLUSTER_SCHED_POLICY", node_value);
    return load_error("[apps.a]\nexec = \"x\"\n[apps.b]\nexec = \"x\"\n");
  };
  ConfigError error = error_with("fifo", nullptr);
  CHECK(error.line == 0);
  CHECK(error.column == 0);
  CHECK(error.key == "MUSTER_SCHED_POLICY");
  CHECK(
      error.to_string() ==
      kPath +
          R"(: MUSTER_SCHED_POLICY: expected "rr" or "none" (the default scheduling of apps), got "fifo")");

  error = error_with(nullptr, "RR");
  CHECK(error.line == 0);
  CHECK(error.key == "NODE_CLUSTER_SCHED_POLICY");
  CHECK(error.message == R"(expected "rr" or "none" (the default scheduling of apps), got "RR")");
}

TEST_CASE("socket and app errors are reported in one pass, in file order") {
  NoSchedulingEnv env;
  ScopedEnv muster("MUSTER_SCHED_POLICY", "x");
  LoadResult result = load_string(R"([apps.web]
exec = "node"
protocol = "node"
sockets = ["api", "web"]
[sockets.web]
listen = "0.0.0.0:80"
mode = "0600"
[sockets.other]
listen = "0.0.0.0:80"
)",
                                  kPath);
  CHECK_FALSE(result.config);
  std::vector<std::string> found;
  for (const ConfigError& error : result.errors) found.push_back(error.to_string());
  CHECK(
      found ==
      std::vector<std::string>{
          kPath +
              R"(: MUSTER_SCHED_POLICY: expected "rr" or "none" (the default scheduling of apps), got "x")",
          kPath + ":4:12: apps.web.sockets[0]: no socket named 'api' is declared (declare "
                  "[sockets.api])",
          kPath +
              R"(:7:8: sockets.web.mode: only used with unix sockets, but listen is "0.0.0.0:80")",
          kPath + R"(:9:10: sockets.other.listen: same address as sockets.web ("0.0.0.0:80"))",
      });
}
