// [groups] (config/groups.cc) and what a verb's APP names
// (Config::apps_named).
#include <catch2/catch.hpp>

#include "config/config.h"
#include "tests/unit/config_support.h"

using namespace muster::config;
using muster::test::check_at;
using muster::test::load_error;
using muster::test::load_ok;

namespace {

const std::string kApps =
    "[apps.api]\nexec = \"/bin/true\"\n"   // 1-2
    "[apps.jobs]\nexec = \"/bin/true\"\n"  // 3-4
    "[apps.web]\nexec = \"/bin/true\"\n";  // 5-6

using Names = std::optional<std::vector<std::string>>;

}  // namespace

TEST_CASE("a group lists apps, read in file order", "[groups]") {
  Config config = load_ok(kApps + "[groups]\nbackend = [\"jobs\", \"api\"]\nfront = [\"web\"]\n");
  REQUIRE(config.groups.size() == 2);
  CHECK(config.groups[0] == GroupConfig{"backend", {"jobs", "api"}});
  CHECK(config.groups[1].name == "front");
}

TEST_CASE("a group's apps, all and an app resolve in config order", "[groups]") {
  Config config = load_ok(kApps + "[groups]\nbackend = [\"jobs\", \"api\"]\n");
  CHECK(config.apps_named("backend") == Names{{"api", "jobs"}});
  CHECK(config.apps_named("all") == Names{{"api", "jobs", "web"}});
  CHECK(config.apps_named("web") == Names{{"web"}});
  CHECK(config.apps_named("nothing") == std::nullopt);
  CHECK(load_ok("[daemon]\n").apps_named("all") == Names{std::vector<std::string>{}});
}

TEST_CASE("a group naming an unknown app is an error at the name", "[groups]") {
  ConfigError error = load_error(kApps + "[groups]\nbackend = [\"api\", \"jbos\"]\n");
  check_at(error, 8, 19, "groups.backend[1]");
  CHECK(error.message == "no app named \"jbos\" is declared (declare [apps.jbos])");
}

TEST_CASE("a group may not take an app's name or all", "[groups]") {
  check_at(load_error(kApps + "[groups]\napi = [\"jobs\"]\n"), 8, 1, "groups.api");
  ConfigError all = load_error(kApps + "[groups]\nall = [\"jobs\"]\n");
  check_at(all, 8, 1, "groups.all");
  CHECK(all.message.find("reserved") != std::string::npos);
}

TEST_CASE("an empty group is an error", "[groups]") {
  ConfigError error = load_error(kApps + "[groups]\nbackend = []\n");
  check_at(error, 8, 11, "groups.backend");
  CHECK(error.message == "expected at least one app, got none");
}

TEST_CASE("an app listed twice in a group is an error at the second", "[groups]") {
  ConfigError error = load_error(kApps + "[groups]\nbackend = [\"api\", \"jobs\", \"api\"]\n");
  check_at(error, 8, 27, "groups.backend[2]");
}

TEST_CASE("groups must be a table of arrays of names", "[groups]") {
  check_at(load_error("groups = 3\n" + kApps), 1, 10, "groups");
  check_at(load_error(kApps + "[groups]\nbackend = \"api\"\n"), 8, 11, "groups.backend");
  check_at(load_error(kApps + "[groups]\nbackend = [1]\n"), 8, 12, "groups.backend[0]");
}
