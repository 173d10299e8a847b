// musterctl describe: where each key of an app came from (config/origins.cc),
// which environment values are masked, and the reply rendered from a
// snapshot (daemon/observe/describe_json.cc).
#include <catch2/catch.hpp>

#include <string>

#include "config_support.h"
#include "daemon/observe/describe_json.h"
#include "daemon/supervision/exit_history.h"

using namespace muster;
using muster::test::load_ok;
namespace json = boost::json;

namespace {

const std::string kApp =
    "[apps.web]\n"                  // 1
    "exec = \"node\"\n"             // 2
    "args = [\"server.js\"]\n"      // 3
    "\n"                            // 4
    "restart_delay = \"1s\"\n"      // 5
    "[apps.web.env]\n"              // 6
    "NODE_ENV = \"production\"\n"   // 7
    "API_TOKEN = \"t0ps3cret\"\n";  // 8

// The settings entry of `key` in a describe reply.
const json::object& setting(const json::object& reply, std::string_view key) {
  for (const auto& s : reply.at("settings").as_array())
    if (s.as_object().at("key").as_string() == key) return s.as_object();
  FAIL("no setting " << key);
  throw;
}

const json::object& variable(const json::object& reply, std::string_view name) {
  for (const auto& v : reply.at("environment").as_array())
    if (v.as_object().at("name").as_string() == name) return v.as_object();
  FAIL("no variable " << name);
  throw;
}

json::object describe(const config::AppConfig& app, bool show_env) {
  daemon::AppSnapshot snap;
  snap.name = app.name;
  snap.instances = app.instances;
  snap.config_instances = app.instances;
  snap.slots = {{0, 1, 1, false, {}}};
  std::vector<daemon::SocketSnapshot> sockets;
  daemon::DescribeInput in{.app = snap,
                           .settings = app,
                           .origins = app.origins,
                           .config_file = test::kPath,
                           .executable = std::string("/usr/bin/node"),
                           .path = "/usr/bin",
                           .inherited = {"LANG=C.UTF-8", "DB_PASSWORD=hunter2"},
                           .sockets = sockets,
                           .show_env = show_env};
  return daemon::describe_reply_fields(in);
}

}  // namespace

TEST_CASE("a key set in the file names its line and column; an unset key has none", "[describe]") {
  const config::AppConfig app = load_ok(kApp).apps.at(0);
  const config::KeyOrigin* exec = app.origins.find("exec");
  REQUIRE(exec);
  CHECK(exec->line == 2);
  CHECK(exec->column == 8);
  CHECK(exec->environment.empty());
  REQUIRE(app.origins.find("restart_delay"));
  CHECK(app.origins.find("restart_delay")->line == 5);
  REQUIRE(app.origins.find("env.API_TOKEN"));
  CHECK(app.origins.find("env.API_TOKEN")->line == 8);
  CHECK(app.origins.find("restart") == nullptr);
  CHECK(app.origins.find("instances") == nullptr);
}

TEST_CASE("origins are no part of an app's settings: moved lines compare equal", "[describe]") {
  const config::AppConfig a = load_ok(kApp).apps.at(0);
  const config::AppConfig b = load_ok("\n\n# moved\n" + kApp).apps.at(0);
  CHECK(a.origins.find("exec")->line != b.origins.find("exec")->line);
  CHECK(a == b);
}

TEST_CASE("names that look secret are masked, others are not", "[describe]") {
  for (const char* name :
       {"API_TOKEN", "db_password", "PASSWD", "AWS_SECRET_ACCESS_KEY", "ApiKey",
        "GOOGLE_APPLICATION_CREDENTIALS", "PRIVATE_PEM", "BASIC_AUTH", "SMTP_PASS", "PASS"}) {
    INFO(name);
    CHECK(daemon::looks_secret(name));
  }
  for (const char* name : {"NODE_ENV", "PATH", "LANG", "PORT", "PASSAGE", "COMPASS_DIR"}) {
    INFO(name);
    CHECK_FALSE(daemon::looks_secret(name));
  }
}

TEST_CASE("describe masks secret-looking values unless show_env, and says where each came from",
          "[describe]") {
  const config::AppConfig app = load_ok(kApp).apps.at(0);
  const json::object masked = describe(app, false);
  CHECK(variable(masked, "API_TOKEN").at("value") == json::value(daemon::kMasked));
  CHECK(variable(masked, "API_TOKEN").at("masked") == json::value(true));
  CHECK(variable(masked, "DB_PASSWORD").at("value") == json::value(daemon::kMasked));
  CHECK(variable(masked, "NODE_ENV").at("value") == json::value("production"));
  CHECK(variable(masked, "LANG").at("origin").at("kind") == json::value("inherited"));
  CHECK(variable(masked, "API_TOKEN").at("origin").at("line") == json::value(8));
  CHECK(json::serialize(masked).find("t0ps3cret") == std::string::npos);
  CHECK(json::serialize(masked).find("hunter2") == std::string::npos);

  const json::object shown = describe(app, true);
  CHECK(variable(shown, "API_TOKEN").at("value") == json::value("t0ps3cret"));
  CHECK(variable(shown, "DB_PASSWORD").at("value") == json::value("hunter2"));

  CHECK(setting(masked, "exec").at("origin").at("line") == json::value(2));
  CHECK(setting(masked, "exec").at("origin").at("file") == json::value(test::kPath));
  CHECK(setting(masked, "restart").at("origin").at("kind") == json::value("default"));
  CHECK(setting(masked, "restart_delay").at("value") == json::value("1s"));
  CHECK(masked.at("exec").at("resolved") == json::value("/usr/bin/node"));
}

TEST_CASE("a slot keeps its last 5 exits, oldest first", "[describe]") {
  daemon::ExitHistory history;
  for (unsigned id = 1; id <= 7; ++id) {
    daemon::ExitInfo info;
    info.signal = 9;
    history.record(daemon::ExitRecord::of(info, id, 1000 + static_cast<int>(id)));
  }
  REQUIRE(history.recent().size() == daemon::ExitHistory::kKept);
  CHECK(history.recent().front().id == 3);
  CHECK(history.recent().back().id == 7);
  CHECK(history.recent().back().pid == 1007);
  CHECK(history.recent().back().description == "killed by SIGKILL");
  CHECK_FALSE(history.recent().back().time.empty());
}

TEST_CASE("every key an app's table sets is a described setting, an overlay's named as such",
          "[describe]") {
  const std::string text =
      "[daemon]\nenvironment = \"production\"\n"
      "[apps.db]\nexec = \"sleep\"\n"
      "[apps.web]\nexec = \"node\"\nargs = [\"server.js\"]\ninstances = 2\n"
      "autostart = false\nafter = [\"db\"]\nwatch = [\"src\"]\nwatch_ignore = [\"*.log\"]\n"
      "watch_delay = \"1s\"\nrestart = \"on-failure\"\nstop_signal = \"SIGINT\"\n"
      "max_memory = \"100MiB\"\nreload_surge = 2\noutput_keep = 3\n"
      "[apps.web.environments.production]\ninstances = 4\n";
  const config::AppConfig app = load_ok(text).apps.at(1);
  const json::object reply = describe(app, false);
  for (const auto& [key, origin] : app.origins.keys) {
    if (key == "env" || key.starts_with("env.")) continue;
    INFO(key);
    CHECK(setting(reply, key).at("origin").as_object().at("kind") != "default");
  }
  CHECK(setting(reply, "autostart").at("value") == false);
  CHECK(setting(reply, "after").at("value") == json::array{"db"});
  CHECK(setting(reply, "watch_delay").at("value") == "1s");
  REQUIRE(app.origins.find("instances"));
  CHECK(app.origins.find("instances")->environment == "production");
  CHECK(app.origins.find("instances")->line == 20);
}
