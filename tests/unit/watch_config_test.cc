// The `watch`, `watch_ignore` and `watch_delay` keys (config/watch.cc) and
// their globs (config/watch_glob.cc).
#include <catch2/catch.hpp>

#include "config/config.h"
#include "config/watch_glob.h"
#include "tests/unit/config_support.h"

using namespace muster::config;
using muster::test::check_at;
using muster::test::load_error;
using muster::test::load_ok;
using namespace std::chrono_literals;

namespace {
const std::string kApp = "[apps.web]\nexec = \"x\"\n";
}

TEST_CASE("watch, watch_ignore and watch_delay are read as written", "[watch]") {
  Config config = load_ok(kApp +
                          "watch = [\"src\", \"*.js\"]\nwatch_ignore = [\"*.log\"]\n"
                          "watch_delay = \"200ms\"\n");
  const AppConfig& app = config.apps.front();
  CHECK(app.watch == std::vector<std::string>{"src", "*.js"});
  CHECK(app.watch_ignore == std::vector<std::string>{"*.log"});
  CHECK(app.watch_delay == 200ms);
}

TEST_CASE("without watch an app watches nothing, with a 500ms delay", "[watch]") {
  const AppConfig app = load_ok(kApp).apps.front();
  CHECK(app.watch.empty());
  CHECK(app.watch_delay == 500ms);
}

TEST_CASE("an absolute watch path is accepted", "[watch]") {
  CHECK(load_ok(kApp + "watch = [\"/srv/shared/lib\"]\n").apps.front().watch.size() == 1);
}

TEST_CASE("an empty watch entry is reported at the entry", "[watch]") {
  ConfigError error = load_error(kApp + "watch = [\"src\", \"\"]\n");
  check_at(error, 3, 17, "apps.web.watch[1]");
  CHECK(error.message ==
        R"(expected a path relative to cwd like "src" or a glob like "*.js", got "")");
}

TEST_CASE("a glob with an unclosed set is reported at the entry", "[watch]") {
  ConfigError error = load_error(kApp + "watch = [\"*.[jt]s\", \"*.[js\"]\n");
  check_at(error, 3, 21, "apps.web.watch[1]");
  CHECK(error.message == R"(bad glob "*.[js": '[' opens a set that no ']' closes)");
}

TEST_CASE("a glob holding a '/' is reported: it matches names", "[watch]") {
  ConfigError error = load_error(kApp + "watch = [\"src/*.js\"]\n");
  check_at(error, 3, 10, "apps.web.watch[0]");
  CHECK_THAT(error.message, Catch::StartsWith("bad glob \"src/*.js\": a glob matches file names"));
}

TEST_CASE("watch_ignore entries are globs, checked as such", "[watch]") {
  ConfigError error = load_error(kApp + "watch = [\"src\"]\nwatch_ignore = [\"tmp\", \"a\\\\\"]\n");
  check_at(error, 4, 24, "apps.web.watch_ignore[1]");
  CHECK(error.message == R"(bad glob "a\\": a glob cannot end with '\')");
}

TEST_CASE("watch_delay is bounded from 50ms to 1m", "[watch]") {
  ConfigError error = load_error(kApp + "watch = [\"src\"]\nwatch_delay = \"10ms\"\n");
  check_at(error, 4, 15, "apps.web.watch_delay");
  CHECK(error.message == R"(expected a duration from 50ms to 1m, got "10ms")");
  CHECK(load_error(kApp + "watch = [\"src\"]\nwatch_delay = \"2m\"\n").key ==
        "apps.web.watch_delay");
}

TEST_CASE("watch_ignore and watch_delay without watch are reported", "[watch]") {
  ConfigError error = load_error(kApp + "watch_ignore = [\"*.log\"]\n");
  check_at(error, 3, 16, "apps.web.watch_ignore");
  CHECK(error.message == "only used with watch, but watch is empty or not set");
}

TEST_CASE("a watch entry is a glob when it holds *, ? or [", "[watch]") {
  CHECK(is_glob("*.js"));
  CHECK(is_glob("file?.txt"));
  CHECK(is_glob("[ab].c"));
  CHECK_FALSE(is_glob("src"));
  CHECK_FALSE(is_glob("src/lib.js"));
}

TEST_CASE("sets with a leading ] or ! are closed globs", "[watch]") {
  CHECK_FALSE(glob_problem("[]a].js"));
  CHECK_FALSE(glob_problem("[!]].js"));
  CHECK_FALSE(glob_problem("\\[x"));
  CHECK(glob_problem("[!]"));
}

TEST_CASE("node_modules and .git are always ignored; watch_ignore adds globs", "[watch]") {
  CHECK(watch_ignored({}, "node_modules"));
  CHECK(watch_ignored({}, ".git"));
  CHECK_FALSE(watch_ignored({}, "src"));
  CHECK(watch_ignored({"*.log", "tmp"}, "app.log"));
  CHECK(watch_ignored({"*.log", "tmp"}, "tmp"));
  CHECK_FALSE(watch_ignored({"*.log", "tmp"}, "tmp2"));
}
