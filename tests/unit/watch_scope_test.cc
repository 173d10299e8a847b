// Which directories an app's watch covers and which changes count
// (daemon/watch/watch_scope.cc).
#include <catch2/catch.hpp>

#include "daemon/watch/watch_scope.h"

using muster::config::AppConfig;
using muster::daemon::WatchScope;

namespace {

AppConfig app(std::vector<std::string> watch, std::vector<std::string> ignore = {}) {
  AppConfig config;
  config.name = "web";
  config.cwd = "/srv/web";
  config.watch = std::move(watch);
  config.watch_ignore = std::move(ignore);
  return config;
}

}  // namespace

TEST_CASE("a directory entry is watched recursively from its parent", "[watch]") {
  WatchScope scope(app({"src"}));
  CHECK(scope.starts() == std::vector<std::string>{"/srv/web"});
  CHECK(scope.watches_subdir("/srv/web", "src"));
  CHECK_FALSE(scope.watches_subdir("/srv/web", "lib"));
  CHECK(scope.watches_subdir("/srv/web/src", "deep"));
  CHECK(scope.recursive("/srv/web/src/deep"));
  CHECK_FALSE(scope.recursive("/srv/web"));
}

TEST_CASE("every file under a directory entry counts, none beside it", "[watch]") {
  WatchScope scope(app({"src"}));
  CHECK(scope.counts("/srv/web/src", "index.js"));
  CHECK(scope.counts("/srv/web/src/deep", "x.txt"));
  CHECK_FALSE(scope.counts("/srv/web", "README.md"));
  CHECK_FALSE(scope.counts("/srv/web", "src2"));
}

TEST_CASE("a file entry counts alone in its directory", "[watch]") {
  WatchScope scope(app({"config/app.json"}));
  CHECK(scope.starts() == std::vector<std::string>{"/srv/web/config"});
  CHECK(scope.counts("/srv/web/config", "app.json"));
  CHECK_FALSE(scope.counts("/srv/web/config", "other.json"));
  CHECK_FALSE(scope.watches_subdir("/srv/web/config", "sub"));
}

TEST_CASE("a glob matches names anywhere under cwd", "[watch]") {
  WatchScope scope(app({"*.js"}));
  CHECK(scope.starts() == std::vector<std::string>{"/srv/web"});
  CHECK(scope.watches_subdir("/srv/web", "lib"));
  CHECK(scope.counts("/srv/web/lib/a/b", "x.js"));
  CHECK_FALSE(scope.counts("/srv/web/lib", "x.json"));
}

TEST_CASE("ignored names are neither descended into nor counted", "[watch]") {
  WatchScope scope(app({"src", "*.js"}, {"*.log", "build"}));
  CHECK_FALSE(scope.watches_subdir("/srv/web", "node_modules"));
  CHECK_FALSE(scope.watches_subdir("/srv/web/src", "node_modules"));
  CHECK_FALSE(scope.watches_subdir("/srv/web/src", ".git"));
  CHECK_FALSE(scope.watches_subdir("/srv/web/src", "build"));
  CHECK_FALSE(scope.counts("/srv/web/src", "debug.log"));
  CHECK(scope.counts("/srv/web/src", "debug.txt"));
}

TEST_CASE("an entry is watched even when its name is ignored", "[watch]") {
  WatchScope scope(app({"node_modules/mylib"}));
  CHECK(scope.watches_subdir("/srv/web/node_modules", "mylib"));
  CHECK(scope.counts("/srv/web/node_modules/mylib", "index.js"));
}

TEST_CASE("changes are shown relative to cwd, or absolute outside it", "[watch]") {
  WatchScope scope(app({"src", "/opt/lib"}));
  CHECK(scope.shown("/srv/web/src/a.js") == "src/a.js");
  CHECK(scope.shown("/opt/lib/b.js") == "/opt/lib/b.js");
  CHECK(scope.counts("/opt/lib", "b.js"));
  CHECK(scope.starts() == std::vector<std::string>{"/srv/web", "/opt"});
}
