// `musterctl import pm2`: PM2's ecosystem keys and saved process list as a
// muster config (cli/import_pm2.h), with PM2 7's semantics.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <string>

#include "cli/import_pm2.h"
#include "cli/import_pm2_parts.h"
#include "cli/pm2_tables.h"
#include "config/config.h"

namespace {

namespace json = boost::json;
namespace pm2 = muster::cli::pm2;

// A host where `binary` is an executable file, `text.bin` a text file, and
// nothing else exists.
pm2::Host fake_host() {
  pm2::Host host;
  host.file_kind = [](const std::string& path) {
    if (path.ends_with("/binary")) return pm2::Host::Kind::binary;
    if (path.ends_with("/www")) return pm2::Host::Kind::text;
    return pm2::Host::Kind::missing;
  };
  host.home = "/home/deploy";
  return host;
}

pm2::Imported import(const std::string& js_json) {
  auto outcome = pm2::convert(json::parse(js_json), "ecosystem.json", "/srv/shop", fake_host());
  INFO(outcome.error);
  REQUIRE(outcome.imported);
  return *outcome.imported;
}

bool has(const std::string& toml, const std::string& line) {
  return toml.find(line) != std::string::npos;
}

// The config muster makes of it (text checks only: no host).
muster::config::Config load(const std::string& toml) {
  auto result = muster::config::load_string(toml, "/srv/shop/muster.toml");
  for (const auto& e : result.errors) UNSCOPED_INFO(e.to_string());
  REQUIRE(result.config);
  return *result.config;
}

}  // namespace

TEST_CASE("a string of args is split as PM2 splits it", "[import-pm2]") {
  CHECK(pm2::split_args(R"(--greeting "hello from api"  KEY="a b" 'x y' -v)") ==
        std::vector<std::string>{"--greeting", "hello from api", "KEY=\"a b\"", "x y", "-v"});
  CHECK(pm2::split_args("").empty());
}

TEST_CASE("a cluster-mode app is a node app running node_args, the script, args", "[import-pm2]") {
  auto out = import(R"({"apps": [{"name": "api", "script": "server.js", "exec_mode": "cluster",
    "instances": 4, "node_args": "--max-old-space-size=256", "args": ["--port", 3000],
    "env": {"NODE_ENV": "development", "PORT": 3000}}]})");
  auto config = load(out.toml);
  REQUIRE(config.apps.size() == 1);
  const auto& app = config.apps[0];
  CHECK(app.name == "api");
  CHECK(app.exec == "node");
  CHECK(app.args ==
        std::vector<std::string>{"--max-old-space-size=256", "server.js", "--port", "3000"});
  CHECK(app.protocol == muster::config::Protocol::node);
  CHECK(app.instances == 4);
  CHECK(app.env.at("PORT") == "3000");
  CHECK(app.stop_signal == 2);  // PM2 stops with SIGINT
  CHECK(app.stop_timeout == std::chrono::milliseconds(1600));
}

TEST_CASE("env_NAME becomes an environment overlaying env", "[import-pm2]") {
  auto out = import(R"({"apps": [{"name": "api", "script": "a.js", "env": {"NODE_ENV": "dev"},
    "env_production": {"NODE_ENV": "production", "WORKERS": 4}}]})");
  CHECK(has(out.toml,
            "[apps.api.environments.production.env]\nNODE_ENV = \"production\"\n"
            "WORKERS = \"4\"\n"));
  CHECK(has(out.toml, "musterd --environment NAME"));
}

TEST_CASE("instances max and 0 are one per CPU; -1 has no equivalent", "[import-pm2]") {
  auto max = import(R"([{"name": "a", "script": "a.js", "instances": "max"}])");
  CHECK(has(max.toml, "instances = 0"));
  CHECK(load(max.toml).apps[0].protocol == muster::config::Protocol::node);  // PM2's default
  auto minus = import(R"([{"name": "a", "script": "a.js", "instances": -1}])");
  CHECK(has(minus.toml, "instances = 0"));
  CHECK(has(minus.toml, "(CPUs minus 1) has no equivalent"));
  REQUIRE(minus.warnings.size() == 1);
  CHECK(has(minus.warnings[0], "no 'CPUs minus N'"));
  auto text = import(R"([{"name": "a", "script": "a.js", "instances": "3"}])");
  CHECK(load(text.toml).apps[0].instances == 3);
}

TEST_CASE("without exec_mode or instances a node script runs in fork mode", "[import-pm2]") {
  auto out = import(R"([{"name": "a", "script": "a.js"}])");
  CHECK(load(out.toml).apps[0].protocol == muster::config::Protocol::none);
}

TEST_CASE("the interpreter defaults by extension, then by content, as PM2's", "[import-pm2]") {
  auto out = import(R"([{"name": "py", "script": "jobs.py"}, {"name": "sh", "script": "run.sh"},
    {"name": "www", "script": "bin/www"}, {"name": "bin", "script": "binary"},
    {"name": "path", "script": "redis-server", "args": "--port 7000"},
    {"name": "own", "script": "jobs.py", "interpreter": "/opt/py/bin/python"}])");
  const auto config = load(out.toml);
  CHECK(config.apps[0].exec == "python3");
  CHECK(config.apps[1].exec == "bash");
  CHECK(config.apps[2].exec == "node");      // a text file without extension
  CHECK(config.apps[3].exec == "./binary");  // found in cwd, not along PATH
  CHECK(config.apps[4].exec == "redis-server");
  CHECK(config.apps[4].args == std::vector<std::string>{"--port", "7000"});
  CHECK(config.apps[5].exec == "/opt/py/bin/python");
}

TEST_CASE("a script with spaces runs under bash -c, as PM2 runs it", "[import-pm2]") {
  auto app = load(import(R"([{"name": "x", "script": "python3 -m http.server"}])").toml).apps[0];
  CHECK(app.exec == "bash");
  CHECK(app.args == std::vector<std::string>{"-c", "python3 -m http.server"});
}

TEST_CASE("restart, memory and timing keys keep PM2's meaning", "[import-pm2]") {
  using namespace std::chrono;
  auto config = load(import(R"([
    {"name": "a", "script": "a.js", "autorestart": false, "max_memory_restart": "200M",
     "kill_timeout": 3000, "min_uptime": "2s", "max_restarts": 5, "restart_delay": 4000},
    {"name": "b", "script": "b.js", "stop_exit_codes": [0], "max_memory_restart": 314572800,
     "exp_backoff_restart_delay": 100, "min_uptime": 1500},
    {"name": "c", "script": "c.js", "max_memory_restart": "1G"}])")
                         .toml);
  const auto& a = config.apps[0];
  CHECK(a.restart == muster::config::RestartMode::never);
  CHECK(a.max_memory == 200u << 20);
  CHECK(a.stop_timeout == seconds(3));
  CHECK(a.min_uptime == seconds(2));
  CHECK(a.max_restarts == 5);
  CHECK(a.restart_delay == seconds(4));
  CHECK(a.restart_delay_max == seconds(4));  // fixed, as PM2's
  const auto& b = config.apps[1];
  CHECK(b.restart == muster::config::RestartMode::on_failure);
  CHECK(b.max_memory == 300u << 20);
  CHECK(b.restart_delay == milliseconds(100));
  CHECK(b.restart_delay_max == seconds(15));
  CHECK(b.min_uptime == milliseconds(1500));
  CHECK(config.apps[2].max_memory == std::uint64_t(1) << 30);
  auto text = load(import(R"([{"name": "a", "script": "a.js", "autorestart": "false"}])").toml);
  CHECK(text.apps[0].restart == muster::config::RestartMode::never);  // as God.handleExit
}

// autostart, watch and watch_ignore are issue 24's keys, loaded once merged.
TEST_CASE("autostart and watch keep their PM2 meaning", "[import-pm2]") {
  auto out = import(R"([{"name": "a", "script": "a.js", "autostart": false, "watch": true,
    "ignore_watch": "*.log"}, {"name": "b", "script": "b.js", "watch": ["src", "*.js"]}])");
  CHECK(has(out.toml, "autostart = false\n"));
  CHECK(has(out.toml, "watch = [\".\"]"));
  CHECK(has(out.toml, "watch_ignore = [\"*.log\"]"));
  CHECK(has(out.toml, "watch = [\"src\", \"*.js\"]"));
}

TEST_CASE("PM2's log files become one output file", "[import-pm2]") {
  auto out = import(R"([
    {"name": "a", "script": "a.js", "cwd": "app", "out_file": "logs/a.log",
     "error_file": "logs/a.log"},
    {"name": "b", "script": "b.js", "out": "~/logs/b-out.log", "err": "/var/log/b-err.log"},
    {"name": "c", "script": "c.js", "log_file": "/var/log/c.log"},
    {"name": "d", "script": "d.js", "out_file": "/dev/null", "error_file": "NULL"},
    {"name": "e", "script": "e.js", "disable_logs": true}])");
  const auto config = load(out.toml);
  CHECK(config.apps[0].output_file == "/srv/shop/app/logs/a.log");  // PM2: relative to cwd
  CHECK(config.apps[1].output_file == "/home/deploy/logs/b-out.log");
  CHECK(has(out.toml, "# PM2 also wrote stderr to /var/log/b-err.log"));
  CHECK(config.apps[2].output_file == "/var/log/c.log");
  CHECK(config.apps[3].output == muster::config::Output::null);
  CHECK(config.apps[4].output == muster::config::Output::null);
}

TEST_CASE("a key without equivalent is a comment saying why; so is an unknown key",
          "[import-pm2]") {
  auto out = import(R"([{"name": "a", "script": "a.js", "cron_restart": "0 3 * * *",
    "wait_ready": true, "no_such_key": 1}])");
  CHECK(has(out.toml, "# pm2 cron_restart = \"0 3 * * *\": " +
                          std::string(pm2::find_key("cron_restart")->note)));
  CHECK(has(out.toml, "# pm2 wait_ready = true: muster has no 'ready' message"));
  CHECK(has(out.toml, "# pm2 no_such_key = 1: not a key of PM2 7; left out"));
  CHECK(out.warnings.size() == 3);
  load(out.toml);
}

TEST_CASE("PM2's aliases and camelCase keys are read as their keys", "[import-pm2]") {
  auto config = load(import(R"([{"name": "a", "cmd": "a.py", "interpreter": "python3.11",
    "interpreterArgs": "-u", "maxMemoryRestart": "64M", "killTimeout": 900}])")
                         .toml);
  const auto& a = config.apps[0];
  CHECK(a.exec == "python3.11");
  CHECK(a.args == std::vector<std::string>{"-u", "a.py"});
  CHECK(a.max_memory == 64u << 20);
  CHECK(a.stop_timeout == std::chrono::milliseconds(900));
}

TEST_CASE("an app name muster does not take is changed and said so", "[import-pm2]") {
  auto out = import(R"([{"name": "my api", "script": "a.js"}, {"name": "all", "script": "b.js"}])");
  CHECK(has(out.toml, "[apps.my-api]"));
  CHECK(has(out.toml, "[apps.all-app]"));
  CHECK(has(out.toml, "# PM2's name \"my api\""));
}

TEST_CASE("a saved process list gives one app per name with its instance count", "[import-pm2]") {
  auto entry = [](int instance) {
    return json::object{{"name", "api"},
                        {"pm_exec_path", "/srv/shop/api.js"},
                        {"pm_cwd", "/srv/shop"},
                        {"exec_interpreter", "node"},
                        {"exec_mode", "cluster_mode"},
                        {"pm_out_log_path", "/home/deploy/.pm2/logs/api-out.log"},
                        {"pm_err_log_path", "/home/deploy/.pm2/logs/api-error.log"},
                        {"env",
                         {{"PATH", "/usr/bin"},
                          {"HOME", "/home/deploy"},
                          {"NODE_ENV", "production"},
                          {"api", "{}"}}},
                        {"NODE_ENV", "production"},
                        {"env_production", {{"NODE_ENV", "production"}}},
                        {"NODE_APP_INSTANCE", instance},
                        {"status", "online"},
                        {"autorestart", true},
                        {"vizion", true}};
  };
  auto outcome = pm2::convert(json::array{entry(0), entry(1)}, "dump.pm2", "/x", fake_host());
  REQUIRE(outcome.imported);
  const std::string& toml = outcome.imported->toml;
  CHECK(has(toml, "Left out of env, as the shell's or PM2's own: HOME, PATH, api."));
  CHECK(!has(toml, "# pm2 vizion"));    // PM2's defaults say nothing
  CHECK(!has(toml, "# pm2 status"));    // nor its run-time state
  CHECK(!has(toml, "# pm2 NODE_ENV"));  // nor its copies of env
  CHECK(!has(toml, "output_file"));     // PM2's own log directory
  CHECK(has(toml, "[apps.api.environments.production.env]"));
  auto config = load(toml.substr(0, toml.find("[apps.api.environments")));
  REQUIRE(config.apps.size() == 1);
  CHECK(config.apps[0].instances == 2);
  CHECK(config.apps[0].args == std::vector<std::string>{"/srv/shop/api.js"});
  CHECK(config.apps[0].env == std::map<std::string, std::string>{{"NODE_ENV", "production"}});
}

TEST_CASE("what is no ecosystem is refused with the reason", "[import-pm2]") {
  auto bad = [](const char* text) {
    return pm2::convert(json::parse(text), "f.json", "/x", fake_host()).error;
  };
  CHECK(bad(R"({"apps": []})") == "no apps in it");
  CHECK(bad(R"({"apps": [1]})") == "an entry of apps is not an object: 1");
  CHECK(bad(R"(42)") == "expected {apps: [...]}, an array of apps or one app, got 42");
  CHECK(bad(R"([{"name": "x"}])") == "app \"x\" has no script");
}

TEST_CASE("every PM2 key has one row; env_NAME finds env_<name>", "[import-pm2]") {
  for (const auto& row : pm2::kKeys) {
    INFO(row.pm2);
    CHECK(!row.pm2.empty());
    CHECK(!row.note.empty());
    CHECK(pm2::find_key(row.pm2) == &row);
  }
  CHECK(pm2::find_key("env_staging")->pm2 == "env_<name>");
  CHECK(pm2::canonical_key("err_log") == "error_file");
  CHECK(pm2::canonical_key("maxRestarts") == "max_restarts");
  CHECK(pm2::canonical_key("env_production") == "env_production");
}
