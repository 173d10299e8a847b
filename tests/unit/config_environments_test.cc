// [apps.NAME.environments.ENV] overlays and how an environment is chosen
// (config/environments.cc), and the effective config printed back
// (config/print.cc).
#include <catch2/catch.hpp>

#include "config/config.h"
#include "tests/unit/config_support.h"
#include "tests/unit/scoped_env.h"

using namespace muster::config;
using muster::test::check_at;
using muster::test::kPath;
using muster::test::ScopedEnv;

namespace {

// api: 1 instance and NODE_ENV=development; production: 4 and NODE_ENV=production.
const std::string kOverlaid =
    "[apps.api]\n"                              // 1
    "exec = \"/bin/true\"\n"                    // 2
    "args = [\"server.js\"]\n"                  // 3
    "[apps.api.env]\n"                          // 4
    "NODE_ENV = \"development\"\n"              // 5
    "PORT = \"8000\"\n"                         // 6
    "[apps.api.environments.production]\n"      // 7
    "instances = 4\n"                           // 8
    "[apps.api.environments.production.env]\n"  // 9
    "NODE_ENV = \"production\"\n"               // 10
    "[apps.jobs]\n"                             // 11
    "exec = \"/bin/true\"\n";                   // 12

LoadResult load(const std::string& text, std::optional<std::string> environment = std::nullopt) {
  LoadOptions options;
  options.environment = std::move(environment);
  LoadResult result = load_string(text, kPath, options);
  for (const ConfigError& error : result.errors) UNSCOPED_INFO(error.to_string());
  return result;
}

Config load_ok(const std::string& text, std::optional<std::string> environment = std::nullopt) {
  LoadResult result = load(text, std::move(environment));
  REQUIRE(result.config);
  return *result.config;
}

ConfigError load_error(const std::string& text,
                       std::optional<std::string> environment = std::nullopt) {
  LoadResult result = load(text, std::move(environment));
  REQUIRE(result.errors.size() == 1);
  return result.errors.front();
}

}  // namespace

TEST_CASE("without an environment the overlays are ignored", "[environments]") {
  ScopedEnv unset(kEnvironmentVariable, nullptr);
  Config config = load_ok(kOverlaid);
  const AppConfig& api = *config.find_app("api");
  CHECK(api.instances == 1);
  CHECK(api.env.at("NODE_ENV") == "development");
  CHECK(config.environment.empty());
  CHECK(api.origin.environment.empty());
}

TEST_CASE("an overlay replaces values and merges tables key by key", "[environments]") {
  ScopedEnv unset(kEnvironmentVariable, nullptr);
  Config config = load_ok(kOverlaid, "production");
  const AppConfig& api = *config.find_app("api");
  CHECK(api.instances == 4);
  CHECK(api.env ==
        std::map<std::string, std::string>{{"NODE_ENV", "production"}, {"PORT", "8000"}});
  CHECK(api.args == std::vector<std::string>{"server.js"});
  CHECK(config.environment == "production");
  CHECK(config.environment_source == EnvironmentSource::option);
  CHECK(api.origin.environment == "production");
  CHECK(api.origin.overlaid_keys == std::vector<std::string>{"instances", "env.NODE_ENV"});
  // An app without an overlay for it keeps its settings.
  CHECK(config.find_app("jobs")->origin.overlaid_keys.empty());
}

TEST_CASE("an array in an overlay replaces the app's", "[environments]") {
  Config config = load_ok(
      "[apps.api]\nexec = \"/bin/true\"\nargs = [\"a\", \"b\"]\n"
      "[apps.api.environments.test]\nargs = [\"c\"]\n",
      "test");
  CHECK(config.find_app("api")->args == std::vector<std::string>{"c"});
}

TEST_CASE("musterd --environment wins over MUSTER_ENVIRONMENT and [daemon] environment",
          "[environments]") {
  std::string text = "[daemon]\nenvironment = \"staging\"\n" + kOverlaid +
                     "[apps.jobs.environments.staging]\ninstances = 2\n"
                     "[apps.jobs.environments.test]\ninstances = 3\n";
  SECTION("the file's [daemon] environment alone") {
    ScopedEnv unset(kEnvironmentVariable, nullptr);
    Config config = load_ok(text);
    CHECK(config.environment == "staging");
    CHECK(config.environment_source == EnvironmentSource::file);
    CHECK(config.find_app("jobs")->instances == 2);
  }
  SECTION("MUSTER_ENVIRONMENT over the file") {
    ScopedEnv set(kEnvironmentVariable, "test");
    Config config = load_ok(text);
    CHECK(config.environment_source == EnvironmentSource::variable);
    CHECK(config.find_app("jobs")->instances == 3);
  }
  SECTION("--environment over both") {
    ScopedEnv set(kEnvironmentVariable, "test");
    Config config = load_ok(text, "production");
    CHECK(config.environment_source == EnvironmentSource::option);
    CHECK(config.find_app("api")->instances == 4);
    CHECK(config.find_app("jobs")->instances == 1);
  }
  SECTION("an empty MUSTER_ENVIRONMENT counts as unset") {
    ScopedEnv set(kEnvironmentVariable, "");
    CHECK(load_ok(text).environment == "staging");
  }
}

TEST_CASE("an environment no app defines is an error naming it", "[environments]") {
  ScopedEnv unset(kEnvironmentVariable, nullptr);
  SECTION("from --environment") {
    ConfigError error = load_error(kOverlaid, "prodution");
    check_at(error, 0, 0, "--environment");
    CHECK(error.message ==
          "no app defines the environment \"prodution\" "
          "([apps.NAME.environments.prodution]); the file defines: production");
  }
  SECTION("from MUSTER_ENVIRONMENT") {
    ScopedEnv set(kEnvironmentVariable, "qa");
    check_at(load_error(kOverlaid), 0, 0, "MUSTER_ENVIRONMENT");
  }
  SECTION("from [daemon] environment, at its value") {
    ConfigError error = load_error("[daemon]\nenvironment = \"qa\"\n" + kOverlaid);
    check_at(error, 2, 15, "daemon.environment");
  }
}

TEST_CASE("an invalid overlay value is reported at the overlay with its full key",
          "[environments]") {
  ConfigError error = load_error(
      "[apps.api]\nexec = \"/bin/true\"\n[apps.api.environments.production]\ninstances = -1\n",
      "production");
  check_at(error, 4, 13, "apps.api.environments.production.instances");
  CHECK(error.message.starts_with("expected a number of workers"));
}

TEST_CASE("an unknown key in an overlay is reported at the overlay", "[environments]") {
  ConfigError error = load_error(
      "[apps.api]\nexec = \"/bin/true\"\n[apps.api.environments.production]\ninstancs = 4\n",
      "production");
  check_at(error, 4, 1, "apps.api.environments.production.instancs");
  CHECK(error.message == "unknown key");
}

TEST_CASE("a bad value merged into env names the overlay's key", "[environments]") {
  ConfigError error =
      load_error(kOverlaid + "[apps.api.environments.production.env.X]\n", "production");
  CHECK(error.key == "apps.api.environments.production.env.X");
}

TEST_CASE("an overlay may not set name or environments", "[environments]") {
  std::string text =
      "[apps.api]\nexec = \"/bin/true\"\n"
      "[apps.api.environments.production]\nname = \"web\"\n"
      "[apps.api.environments.production.environments.x]\ninstances = 2\n";
  LoadResult result = load(text);
  REQUIRE(result.errors.size() == 2);
  check_at(result.errors[0], 4, 1, "apps.api.environments.production.name");
  // The implicit table is placed at its key in the header.
  check_at(result.errors[1], 5, 35, "apps.api.environments.production.environments");
}

TEST_CASE("environments must be a table of tables", "[environments]") {
  check_at(load_error("[apps.api]\nexec = \"/bin/true\"\nenvironments = 3\n"), 3, 16,
           "apps.api.environments");
  check_at(load_error("[apps.api]\nexec = \"/bin/true\"\nenvironments = { production = 3 }\n"), 3,
           31, "apps.api.environments.production");
}

TEST_CASE("the effective config printed loads back to the same config", "[environments]") {
  ScopedEnv unset(kEnvironmentVariable, nullptr);
  std::string text =
      "[daemon]\nenvironment = \"production\"\nlog_level = \"debug\"\n"
      "[sockets.web]\nlisten = \"127.0.0.1:8000\"\n"
      "[groups]\nall_of_them = [\"jobs\", \"api\"]\n" +
      kOverlaid;
  LoadOptions options;
  options.print = true;
  LoadResult first = load_string(text, kPath, options);
  REQUIRE(first.config);
  INFO(first.effective_toml);
  CHECK(first.effective_toml.starts_with("# The effective config of " + kPath));
  CHECK(first.effective_toml.find("environments.") == std::string::npos);
  CHECK(first.effective_toml.find("environment =") == std::string::npos);
  LoadResult again = load_string(first.effective_toml, kPath, options);
  REQUIRE(again.config);
  CHECK(again.config->environment.empty());
  CHECK(again.config->apps == first.config->apps);
  CHECK(again.config->apps.front().name == "api");  // file order, not sorted
  CHECK(again.config->sockets == first.config->sockets);
  CHECK(again.config->groups == first.config->groups);
  CHECK(again.config->daemon.log_level == LogLevel::debug);
}

TEST_CASE("only where an app came from changes: the apps compare equal", "[environments]") {
  ScopedEnv unset(kEnvironmentVariable, nullptr);
  Config plain = load_ok("[apps.api]\nexec = \"/bin/true\"\ninstances = 4\n");
  Config overlaid =
      load_ok("[apps.api]\nexec = \"/bin/true\"\n[apps.api.environments.p]\ninstances = 4\n", "p");
  CHECK(overlaid.apps.front().origin.overlaid_keys.size() == 1);
  CHECK(plain.apps == overlaid.apps);
}
