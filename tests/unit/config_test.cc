// Loading and validating config files (config/config.cc, config/apps.cc).
#include <catch2/catch.hpp>

#include "tests/unit/scoped_env.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "tests/unit/config_support.h"

using namespace muster::config;
using muster::test::check_at;
using muster::test::kPath;
using muster::test::load_error;
using muster::test::load_ok;
using namespace std::chrono_literals;

namespace {

// A [daemon] table and an app, each with nearly every key set.
const std::string kFullConfig = R"([daemon]
control_socket = "/run/muster/muster.sock"
control_mode = "0660"
control_group = "web"
log_level = "debug"
log_format = "json"
shutdown_timeout = "20s"

[apps.web]
exec = "/usr/bin/node"
args = ["server.js", "--port", "8000"]
cwd = "www"
env = { NODE_ENV = "production", EMPTY = "" }
instances = 4
protocol = "none"
user = "www-data"
group = "www-data"
output = "file"
output_file = "logs/web.log"
restart = "on-failure"
restart_delay = "250ms"
restart_delay_max = "1m"
min_uptime = "2s"
max_restarts = 3
restart_window = "5m"
stop_signal = "SIGINT"
stop_timeout = "1m30s"
drain_timeout = "10m"
)";

}  // namespace

TEST_CASE("a full config with every key is read into the structs") {
  Config config = load_ok(kFullConfig);
  CHECK(config.path == kPath);
  CHECK(config.daemon.control_socket == "/run/muster/muster.sock");
  CHECK(config.daemon.control_mode == 0660);
  CHECK(config.daemon.control_group == "web");
  CHECK(config.daemon.log_level == LogLevel::debug);
  CHECK(config.daemon.log_format == LogFormat::json);
  CHECK(config.daemon.shutdown_timeout == 20s);
  REQUIRE(config.apps.size() == 1);
  const AppConfig& web = config.apps[0];
  CHECK(web.name == "web");
  CHECK(web.exec == "/usr/bin/node");
  CHECK(web.args == std::vector<std::string>{"server.js", "--port", "8000"});
  CHECK(web.cwd == "/srv/site/www");
  CHECK(web.env == std::map<std::string, std::string>{{"NODE_ENV", "production"}, {"EMPTY", ""}});
  CHECK(web.instances == 4);
  CHECK(web.protocol == Protocol::none);
  CHECK(web.user == "www-data");
  CHECK(web.group == "www-data");
  CHECK(web.output == Output::file);
  CHECK(web.output_file == "/srv/site/logs/web.log");
  CHECK(web.restart == RestartMode::on_failure);
  CHECK(web.restart_delay == 250ms);
  CHECK(web.restart_delay_max == 1min);
  CHECK(web.min_uptime == 2s);
  CHECK(web.max_restarts == 3);
  CHECK(web.restart_window == 5min);
  CHECK(web.stop_signal == 2);
  CHECK(web.stop_timeout == 90s);
  CHECK(web.drain_timeout == 10min);
  CHECK(config.find_app("web") == &web);
  CHECK(config.find_app("wbe") == nullptr);
}

TEST_CASE("a config without apps is valid") {
  CHECK(load_ok("").apps.empty());
  CHECK(load_ok("[daemon]\nlog_level = \"warn\"\n").apps.empty());
  CHECK(load_ok("[apps]\n").apps.empty());
}

TEST_CASE("absent keys take their defaults") {
  muster::test::NoSchedulingEnv env;
  Config config = load_ok("[apps.worker]\nexec = \"./worker\"\n");
  CHECK(config.daemon.control_socket == default_control_socket());
  CHECK(config.daemon.control_mode == 0600);
  CHECK(config.daemon.control_group.empty());
  CHECK(config.daemon.log_level == LogLevel::info);
  CHECK(config.daemon.log_format == LogFormat::text);
  CHECK(config.daemon.shutdown_timeout == 10s);

  AppConfig expected;
  expected.name = "worker";
  expected.exec = "./worker";
  expected.cwd = "/srv/site";
  REQUIRE(config.apps.size() == 1);
  CHECK(config.apps[0] == expected);
}

TEST_CASE("an app's cwd is resolved against the config file's directory") {
  auto cwd_of = [](const std::string& cwd) {
    return load_ok("[apps.a]\nexec = \"x\"\ncwd = \"" + cwd + "\"\n").apps.at(0).cwd;
  };
  CHECK(cwd_of(".") == "/srv/site");
  CHECK(cwd_of("www/") == "/srv/site/www");
  CHECK(cwd_of("../other/./dir") == "/srv/other/dir");
  CHECK(cwd_of("/opt//app/") == "/opt/app");
  CHECK(cwd_of("/") == "/");
}

TEST_CASE("a relative control socket is resolved against the config file's directory") {
  Config config = load_ok("[daemon]\ncontrol_socket = \"run/muster.sock\"\n");
  CHECK(config.daemon.control_socket == "/srv/site/run/muster.sock");
}

TEST_CASE("a relative config path is made absolute") {
  Config config = *load_string("", "conf/muster.toml").config;
  CHECK(config.path == (std::filesystem::current_path() / "conf/muster.toml").string());
}

TEST_CASE("zero instances means one per available CPU") {
  Config config = load_ok("[apps.a]\nexec = \"x\"\ninstances = 0\n");
  CHECK(config.apps.at(0).instances == available_parallelism());
}

TEST_CASE("apps are listed in file order whatever their names") {
  Config config = load_ok(R"([apps.zeta]
exec = "z"
[apps.alpha]
exec = "a"
[apps]
mid = { exec = "m" }
)");
  REQUIRE(config.apps.size() == 3);
  CHECK(config.apps[0].name == "zeta");
  CHECK(config.apps[1].name == "alpha");
  CHECK(config.apps[2].name == "mid");
}

TEST_CASE("every error of a file is reported in one pass, in file order") {
  LoadResult result = load_string(R"([apps.zeta]
exec = "z"
restart = "sometimes"
[daemon]
log_level = "loud"
bogus = 1
[apps.alpha]
stop_timeout = "forever"
instances = -2
)",
                                  kPath);
  CHECK_FALSE(result.config);
  std::vector<std::string> found;
  for (const ConfigError& error : result.errors) found.push_back(error.to_string());
  CHECK(
      found ==
      std::vector<std::string>{
          kPath +
              R"(:3:11: apps.zeta.restart: expected one of always, on-failure, never, got "sometimes")",
          kPath +
              R"(:5:13: daemon.log_level: expected one of trace, debug, info, warn, error, got "loud")",
          kPath + ":6:1: daemon.bogus: unknown key",
          kPath + ":7:1: apps.alpha.exec: required key is missing: the program to run, like exec = "
                  "\"/usr/bin/node\"",
          kPath +
              R"(:8:16: apps.alpha.stop_timeout: expected a duration like "250ms" or "1m30s", got "forever")",
          kPath + ":9:13: apps.alpha.instances: expected a number of workers from 0 (one per CPU) "
                  "to 4096, got -2",
      });
}

TEST_CASE("a TOML syntax error is reported once at its position") {
  LoadResult result = load_string("[apps.web]\nexec = \"x\"\nargs = [\"a\",\n", kPath);
  REQUIRE(result.errors.size() == 1);
  const ConfigError& error = result.errors[0];
  CHECK(error.file == kPath);
  CHECK(error.line == 3);  // where the file ends inside the array
  CHECK(error.key.empty());
  CHECK_THAT(error.message, Catch::Contains("end-of-file"));

  check_at(load_error("[apps.web]\nexec = \"x\"\n[apps.web]\n"), 3, 1, "");

  check_at(load_error("[apps.web]\nexec = \"x\"\nrestart = always\n"), 3, 11, "");
}

TEST_CASE("an unreadable file is one error without a position") {
  LoadResult result = load_file("/nonexistent/muster.toml", HostChecks::run);
  REQUIRE(result.errors.size() == 1);
  const ConfigError& error = result.errors[0];
  CHECK(error.line == 0);
  CHECK(error.key.empty());
  CHECK_THAT(error.message, Catch::Contains(std::strerror(ENOENT)));
  CHECK(error.to_string() ==
        "/nonexistent/muster.toml: cannot read: " + std::string(std::strerror(ENOENT)));

  result = load_file("/", HostChecks::run);
  REQUIRE(result.errors.size() == 1);
  CHECK_THAT(result.errors[0].message, Catch::Contains(std::strerror(EISDIR)));
}

TEST_CASE("a config file on disk is loaded with its absolute path") {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("muster-config-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "muster.toml") << "[apps.web]\nexec = \"node\"\n";
  LoadResult result = load_file((dir / "muster.toml").string(), HostChecks::skip);
  std::filesystem::remove_all(dir);
  REQUIRE(result.config);
  CHECK(result.config->path == (dir / "muster.toml").string());
  CHECK(result.config->apps.at(0).cwd == dir.string());
}

TEST_CASE("metrics_listen takes a TCP address; absent or empty means off", "[metrics]") {
  CHECK_FALSE(load_ok("[daemon]\n").daemon.metrics);
  CHECK_FALSE(load_ok("[daemon]\nmetrics_listen = \"\"\n").daemon.metrics);
  Config v4 = load_ok("[daemon]\nmetrics_listen = \"127.0.0.1:9464\"\n");
  REQUIRE(v4.daemon.metrics);
  CHECK(v4.daemon.metrics->host == "127.0.0.1");
  CHECK(v4.daemon.metrics->port == 9464);
  Config v6 = load_ok("[daemon]\nmetrics_listen = \"[::1]:0\"\n");
  REQUIRE(v6.daemon.metrics);
  CHECK(v6.daemon.metrics->family == muster::config::SocketConfig::Family::ipv6);
  CHECK(v6.daemon.metrics->port == 0);
}

TEST_CASE("a bad metrics_listen names the key and its position", "[metrics]") {
  auto unix_error = load_error("[daemon]\nmetrics_listen = \"unix:/run/m.sock\"\n");
  check_at(unix_error, 2, 18, "daemon.metrics_listen");
  CHECK_THAT(unix_error.message, Catch::Contains("TCP address"));
  check_at(load_error("[daemon]\nmetrics_listen = \"localhost\"\n"), 2, 18,
           "daemon.metrics_listen");
  check_at(load_error("[daemon]\nmetrics_listen = 9464\n"), 2, 18, "daemon.metrics_listen");
}

TEST_CASE("failed_retry is a duration, 5 minutes by default, 0s for never") {
  using namespace std::chrono_literals;
  CHECK(load_ok("[apps.w]\nexec = \"./w\"\n").apps[0].failed_retry == 5min);
  CHECK(load_ok("[apps.w]\nexec = \"./w\"\nfailed_retry = \"30s\"\n").apps[0].failed_retry == 30s);
  CHECK(load_ok("[apps.w]\nexec = \"./w\"\nfailed_retry = \"0s\"\n").apps[0].failed_retry == 0s);
}
