// env_inherit: which of musterd's environment variables an app's workers get.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/executable.h"
#include "tests/unit/config_support.h"

using muster::config::inherited_environment;
using namespace muster::test;

namespace {

const std::string kApp = "[apps.web]\nexec = \"x\"\n";

std::vector<std::string> inherited(const std::string& keys, std::vector<const char*> environ) {
  environ.push_back(nullptr);
  auto app = load_ok(kApp + keys).apps.front();
  return inherited_environment(app, const_cast<char* const*>(environ.data()));
}

}  // namespace

TEST_CASE("env_inherit is a list of names, empty by default") {
  CHECK(load_ok(kApp).apps.front().env_inherit.empty());
  auto app = load_ok(kApp + R"(env_inherit = ["NODE_ENV", "LANG", "_x1"])").apps.front();
  CHECK(app.env_inherit == std::vector<std::string>{"NODE_ENV", "LANG", "_x1"});
  CHECK(load_ok(kApp + R"(env_inherit = ["*"])").apps.front().env_inherit ==
        std::vector<std::string>{"*"});
}

TEST_CASE("env_inherit names must be environment variable names") {
  for (std::string bad : {"", "A=B", "1ST", "A B", "NODE-ENV"}) {
    ConfigError error = load_error(kApp + "env_inherit = [\"LANG\", \"" + bad + "\"]\n");
    check_at(error, 3, 24, "apps.web.env_inherit[1]");
    CHECK(error.message ==
          "expected an environment variable name (letters, digits and '_', not "
          "starting with a digit) or \"*\", got \"" +
              bad + "\"");
  }
  check_at(load_error(kApp + "env_inherit = \"LANG\"\n"), 3, 15, "apps.web.env_inherit");
  check_at(load_error(kApp + "env_inherit = [\"A\\u0000B\"]\n"), 3, 16, "apps.web.env_inherit[0]");
}

TEST_CASE("\"*\" in env_inherit must stand alone") {
  ConfigError error = load_error(kApp + "env_inherit = [\"LANG\", \"*\"]\n");
  check_at(error, 3, 24, "apps.web.env_inherit[1]");
  CHECK(error.message == R"("*" (every variable) must be the only name)");
}

TEST_CASE("variables musterd sets itself cannot be inherited by name") {
  for (std::string name :
       {"MUSTER_APP", "MUSTER_SOCKET", "NODE_UNIQUE_ID", "NODE_CHANNEL_FD",
        "NODE_CHANNEL_SERIALIZATION_MODE", "LISTEN_FDS", "NOTIFY_SOCKET", "WATCHDOG_USEC"}) {
    ConfigError error = load_error(kApp + "env_inherit = [\"" + name + "\"]\n");
    check_at(error, 3, 16, "apps.web.env_inherit[0]");
    CHECK(error.message ==
          name + " is set by musterd where a worker needs it and is never inherited");
  }
}

TEST_CASE("a worker inherits the variables named, if musterd has them") {
  CHECK(inherited("", {"NODE_ENV=production", "LANG=C"}).empty());
  CHECK(inherited(R"(env_inherit = ["NODE_ENV", "TZ"])",
                  {"NODE_ENV=production", "LANG=C", "SECRET=1", "NODE_ENV_X=no"}) ==
        std::vector<std::string>{"NODE_ENV=production"});
}

TEST_CASE("\"*\" inherits everything but PATH and what musterd sets itself") {
  CHECK(inherited(R"(env_inherit = ["*"])",
                  {"A=1", "PATH=/bin", "MUSTER_SOCKET=/s", "NODE_UNIQUE_ID=9", "LISTEN_FDS=3",
                   "NOTIFY_SOCKET=/n", "EMPTY=", "B=x=y"}) ==
        std::vector<std::string>{"A=1", "EMPTY=", "B=x=y"});
}

TEST_CASE("the app's env wins over an inherited variable") {
  CHECK(inherited("env_inherit = [\"*\"]\nenv = { TZ = \"UTC\" }\n",
                  {"TZ=Europe/Paris", "LANG=C"}) == std::vector<std::string>{"LANG=C"});
}
