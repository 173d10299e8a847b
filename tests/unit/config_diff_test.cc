#include <catch2/catch.hpp>

#include "daemon/wiring/config_reload.h"
#include "tests/unit/scoped_env.h"

using muster::daemon::ConfigDiff;
using muster::daemon::diff_configs;

namespace {

muster::config::Config load(const std::string& text) {
  muster::test::NoSchedulingEnv env;
  auto result = muster::config::load_string(text, "/srv/muster.toml");
  for (const auto& e : result.errors) UNSCOPED_INFO(e.to_string());
  REQUIRE(result.config);
  return *result.config;
}

const std::string kBase = R"(
[sockets.web]
listen = "127.0.0.1:8000"
[apps.web]
exec = "node"
args = ["a.js"]
protocol = "node"
sockets = ["web"]
[apps.batch]
exec = "sleep"
)";

}  // namespace

TEST_CASE("an identical config changes nothing", "[reload-config]") {
  ConfigDiff d = diff_configs(load(kBase), load(kBase));
  CHECK(d.empty());
  CHECK(d.warnings.empty());
}

TEST_CASE("added and removed apps and sockets are found", "[reload-config]") {
  std::string next = R"(
[sockets.api]
listen = "127.0.0.1:9000"
[apps.api]
exec = "node"
protocol = "node"
sockets = ["api"]
[apps.batch]
exec = "sleep"
)";
  ConfigDiff d = diff_configs(load(kBase), load(next));
  CHECK(d.apps_added == std::vector<std::string>{"api"});
  CHECK(d.apps_removed == std::vector<std::string>{"web"});
  CHECK(d.sockets_added == std::vector<std::string>{"api"});
  CHECK(d.sockets_removed == std::vector<std::string>{"web"});
  CHECK(d.apps_reloaded.empty());
  CHECK(d.apps_updated.empty());
}

TEST_CASE("a worker-facing change means a rolling reload", "[reload-config]") {
  std::string next = kBase;
  next.replace(next.find("a.js"), 4, "b.js");
  ConfigDiff d = diff_configs(load(kBase), load(next));
  CHECK(d.apps_reloaded == std::vector<std::string>{"web"});
  CHECK(d.apps_updated.empty());
}

TEST_CASE("a change of env_inherit means a rolling reload", "[reload-config]") {
  std::string next = kBase;
  next.replace(next.find("args = "), 0, "env_inherit = [\"NODE_ENV\"]\n");
  ConfigDiff d = diff_configs(load(kBase), load(next));
  CHECK(d.apps_reloaded == std::vector<std::string>{"web"});
}

TEST_CASE("a change of serialization means a rolling reload", "[reload-config]") {
  // A worker's channel mode is fixed at its start (NODE_CHANNEL_SERIALIZATION_MODE).
  std::string next = kBase;
  next.replace(next.find("args = "), 0, "serialization = \"advanced\"\n");
  ConfigDiff d = diff_configs(load(kBase), load(next));
  CHECK(d.apps_reloaded == std::vector<std::string>{"web"});
}

TEST_CASE("a change of inspect means a rolling reload", "[reload-config][inspect]") {
  std::string next = kBase;
  next.replace(next.find("args = "), 0, "inspect = \"127.0.0.1:9229\"\n");
  ConfigDiff d = diff_configs(load(kBase), load(next));
  CHECK(d.apps_reloaded == std::vector<std::string>{"web"});
}

TEST_CASE("policy-only changes are applied in place", "[reload-config]") {
  std::string next = kBase + "restart = \"on-failure\"\nmax_restarts = 3\ninstances = 4\n";
  ConfigDiff d = diff_configs(load(kBase), load(next));
  CHECK(d.apps_updated == std::vector<std::string>{"batch"});
  CHECK(d.apps_reloaded.empty());
}

TEST_CASE("a socket whose address changed is rebound and its apps reloaded", "[reload-config]") {
  std::string next = kBase;
  next.replace(next.find("8000"), 4, "8001");
  ConfigDiff d = diff_configs(load(kBase), load(next));
  CHECK(d.sockets_rebound == std::vector<std::string>{"web"});
  CHECK(d.apps_reloaded == std::vector<std::string>{"web"});
}

TEST_CASE("control socket changes are reported as needing a restart", "[reload-config]") {
  std::string next = "[daemon]\ncontrol_mode = \"0660\"\n" + kBase;
  ConfigDiff d = diff_configs(load(kBase), load(next));
  CHECK(d.warnings.size() == 1);
  CHECK(d.empty());
}

TEST_CASE("a metrics_listen change is reported as needing a restart", "[reload-config]") {
  std::string next = "[daemon]\nmetrics_listen = \"127.0.0.1:9464\"\n" + kBase;
  ConfigDiff d = diff_configs(load(kBase), load(next));
  REQUIRE(d.warnings.size() == 1);
  CHECK_THAT(d.warnings[0], Catch::Contains("metrics_listen"));
  CHECK(d.empty());
}
