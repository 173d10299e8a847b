// autostart and after (config/apps.cc, config/start_order.cc): what they
// read, where a bad entry or a cycle is reported, and the start layers.
#include <catch2/catch.hpp>

#include <string>

#include "config/config.h"
#include "config/start_order.h"
#include "tests/unit/config_support.h"

using namespace muster::config;
using muster::test::check_at;
using muster::test::load_error;
using muster::test::load_ok;

namespace {

// [apps.NAME] with exec, then `extra` (one line, or empty).
std::string app(const std::string& name, const std::string& extra = "") {
  return "[apps." + name + "]\nexec = \"x\"\n" + (extra.empty() ? "" : extra + "\n");
}

AppConfig named(const std::string& name, std::vector<std::string> after = {}) {
  AppConfig out;
  out.name = name;
  out.after = std::move(after);
  return out;
}

}  // namespace

TEST_CASE("autostart defaults to true and after to no app", "[config][order]") {
  Config config = load_ok(app("db", "autostart = false") + app("api", "after = [\"db\"]"));
  CHECK_FALSE(config.apps[0].autostart);
  CHECK(config.apps[0].after.empty());
  CHECK(config.apps[1].autostart);
  CHECK(config.apps[1].after == std::vector<std::string>{"db"});
}

TEST_CASE("autostart must be a boolean", "[config][order]") {
  check_at(load_error(app("db", "autostart = \"no\"")), 3, 13, "apps.db.autostart");
}

TEST_CASE("after may name only other apps of the file, each once", "[config][order]") {
  SECTION("an unknown app") {
    ConfigError e = load_error(app("api", "after = [\"db\"]"));
    check_at(e, 3, 10, "apps.api.after[0]");
    CHECK(e.message == "no app named \"db\" in this file");
  }
  SECTION("itself") {
    ConfigError e = load_error(app("api", "after = [\"api\"]"));
    check_at(e, 3, 10, "apps.api.after[0]");
    CHECK(e.message == "an app cannot start after itself");
  }
  SECTION("one app twice") {
    check_at(load_error(app("db") + app("api", "after = [\"db\", \"db\"]")), 5, 16,
             "apps.api.after[1]");
  }
  SECTION("not a list of strings") {
    check_at(load_error(app("api", "after = \"db\"")), 3, 9, "apps.api.after");
  }
}

TEST_CASE("a cycle of after is reported at its first entry, spelled out", "[config][order]") {
  SECTION("two apps") {
    ConfigError e = load_error(app("a", "after = [\"b\"]") + app("b", "after = [\"a\"]"));
    check_at(e, 3, 10, "apps.a.after[0]");
    CHECK(e.message == "apps may not wait for each other in a cycle: a -> b -> a");
  }
  SECTION("three apps, the cycle not starting at the first app") {
    ConfigError e =
        load_error(app("web", "after = [\"api\"]") + app("api", "after = [\"db\"]") +
                   app("db", "after = [\"cache\"]") + app("cache", "after = [\"api\"]"));
    check_at(e, 6, 10, "apps.api.after[0]");
    CHECK(e.message == "apps may not wait for each other in a cycle: api -> db -> cache -> api");
  }
}

TEST_CASE("after_cycles finds each cycle once and nothing in a tree", "[config][order]") {
  std::vector<AppConfig> tree{named("db"), named("cache"), named("api", {"db", "cache"}),
                              named("web", {"api", "db"})};
  CHECK(after_cycles(tree).empty());
  std::vector<AppConfig> two{named("a", {"b"}), named("b", {"a"}), named("c", {"d"}),
                             named("d", {"c", "x"})};
  auto cycles = after_cycles(two);
  REQUIRE(cycles.size() == 2);
  CHECK(spell_cycle(two, cycles[0]) == "a -> b -> a");
  CHECK(spell_cycle(two, cycles[1]) == "c -> d -> c");
}

TEST_CASE("start layers put each app above the deepest app it names", "[config][order]") {
  std::vector<AppConfig> apps{named("web", {"api"}), named("db"), named("api", {"db", "cache"}),
                              named("cache"), named("jobs", {"db"})};
  std::vector<const AppConfig*> pointers;
  for (const AppConfig& a : apps) pointers.push_back(&a);
  CHECK(start_layers(pointers) == std::vector<unsigned>{2, 0, 1, 0, 1});
  // Names outside the set (an app not among those stopped) are no step.
  pointers.erase(pointers.begin() + 1);  // without db
  CHECK(start_layers(pointers) == std::vector<unsigned>{2, 1, 0, 0});
}
