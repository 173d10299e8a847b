// Listening sockets in config files (config/listen.cc, config/sockets.cc);
// the apps that use them: app_sockets_config_test.cc.
#include <catch2/catch.hpp>

#include "tests/unit/scoped_env.h"

#include <cstdlib>
#include <optional>
#include <string>
#include <variant>

#include "config/config.h"
#include "tests/unit/config_support.h"

using namespace muster::config;
using muster::test::check_at;
using muster::test::kPath;
using muster::test::kWebSocket;
using muster::test::load_error;
using muster::test::load_ok;
using namespace std::chrono_literals;

using muster::test::NoSchedulingEnv;
using muster::test::ScopedEnv;

namespace {

using Family = SocketConfig::Family;

SocketConfig listen_ok(const std::string& text, const std::string& base_dir = "/srv/site") {
  auto result = parse_listen(text, base_dir);
  if (!result) FAIL(text << ": " << result.error().message);
  return *result;
}

// The message parse_listen rejects `text` with.
std::string listen_error(const std::string& text, const std::string& base_dir = "/srv/site") {
  auto result = parse_listen(text, base_dir);
  INFO(text);
  REQUIRE_FALSE(result.ok());
  return result.error().message;
}

}  // namespace

// parse_listen

TEST_CASE("an IPv4 address and port are read as host and port") {
  SocketConfig socket = listen_ok("0.0.0.0:8000");
  CHECK(socket.listen == "0.0.0.0:8000");
  CHECK(socket.family == Family::ipv4);
  CHECK(socket.host == "0.0.0.0");
  CHECK(socket.port == 8000);
  CHECK(socket.path.empty());
  CHECK(listen_ok("10.1.2.3:65535").port == 65535);
  CHECK(listen_ok("127.0.0.1:0").port == 0);
}

TEST_CASE("localhost means 127.0.0.1 and no other name is resolved") {
  SocketConfig socket = listen_ok("localhost:3000");
  CHECK(socket.family == Family::ipv4);
  CHECK(socket.host == "127.0.0.1");
  CHECK(socket.port == 3000);
  CHECK(
      listen_error("example.com:80") ==
      R"(expected a numeric IPv4 address or "localhost" before the port (names are not resolved), got "example.com")");
}

TEST_CASE("an IPv6 address is written in brackets and kept in its shortest form") {
  SocketConfig socket = listen_ok("[::]:8000");
  CHECK(socket.family == Family::ipv6);
  CHECK(socket.host == "::");
  CHECK(socket.port == 8000);
  CHECK(listen_ok("[::1]:80").host == "::1");
  CHECK(listen_ok("[0:0::0:1]:80").host == "::1");
  CHECK(listen_ok("[2001:DB8::1]:443").host == "2001:db8::1");
}

TEST_CASE("a unix path is absolute or relative to the config directory") {
  SocketConfig socket = listen_ok("unix:/run/web.sock");
  CHECK(socket.listen == "unix:/run/web.sock");
  CHECK(socket.family == Family::unix_path);
  CHECK(socket.path == "/run/web.sock");
  CHECK(socket.host.empty());
  CHECK(socket.port == 0);
  CHECK(listen_ok("unix:run/web.sock").path == "/srv/site/run/web.sock");
  CHECK(listen_ok("unix:../web.sock").path == "/srv/web.sock");
  CHECK(listen_ok("unix://run//./web.sock").path == "/run/web.sock");
}

TEST_CASE("a unix path must fit in a socket address") {
  std::string longest = "/" + std::string(106, 'a');
  CHECK(listen_ok("unix:" + longest).path == longest);
  CHECK(listen_error("unix:" + longest + "a") ==
        "expected a unix socket path of at most 107 bytes, got 108 bytes: \"" + longest + "a\"");
  // The length that counts is the resolved one.
  std::string relative(100, 'b');
  CHECK_THAT(listen_error("unix:" + relative, "/srv/site"),
             Catch::StartsWith("expected a unix socket path of at most 107 bytes, got 110 bytes"));
  CHECK(listen_error("unix:") == R"(expected a path after "unix:", got "unix:")");
}

TEST_CASE("a port is a decimal number from 0 to 65535") {
  CHECK(listen_error("1.2.3.4:65536") ==
        R"(expected a port from 0 to 65535 after ':', got "65536")");
  CHECK(listen_error("[::1]:99999999999") ==
        R"(expected a port from 0 to 65535 after ':', got "99999999999")");
  for (const char* text : {"1.2.3.4:", "1.2.3.4:-1", "1.2.3.4:+80", "1.2.3.4:http", "1.2.3.4:8 0",
                           "1.2.3.4:0x50", "[::1]:", "[::1]:8a"}) {
    CHECK_THAT(listen_error(text), Catch::StartsWith("expected a port from 0 to 65535"));
  }
}

TEST_CASE("an address in no known form is rejected with the forms listed") {
  CHECK(listen_error("8000") ==
        R"(expected "HOST:PORT", "[IPV6]:PORT" or "unix:PATH", got "8000")");
  CHECK(listen_error("") == R"(expected "HOST:PORT", "[IPV6]:PORT" or "unix:PATH", got "")");
  CHECK(
      listen_error("::1:80") ==
      R"(expected "HOST:PORT", "[IPV6]:PORT" or "unix:PATH" (IPv6 addresses go in brackets), got "::1:80")");
  CHECK(
      listen_error("tcp://1.2.3.4:80") ==
      R"(expected "HOST:PORT", "[IPV6]:PORT" or "unix:PATH" (IPv6 addresses go in brackets), got "tcp://1.2.3.4:80")");
  CHECK(listen_error(std::string("1.2.3.4:80\0", 11)) ==
        R"(expected "HOST:PORT", "[IPV6]:PORT" or "unix:PATH", got "1.2.3.4:80\u0000")");
}

TEST_CASE("a host that is not a numeric address of its kind is rejected") {
  const std::string not_v4 =
      R"(expected a numeric IPv4 address or "localhost" before the port (names are not resolved), got )";
  CHECK(listen_error("1.2.3:80") == not_v4 + R"("1.2.3")");
  CHECK(listen_error("1.2.3.256:80") == not_v4 + R"("1.2.3.256")");
  CHECK(listen_error("01.2.3.4:80") == not_v4 + R"("01.2.3.4")");
  CHECK(listen_error(":80") == not_v4 + R"("")");
  CHECK(listen_error("[1.2.3.4]:80") ==
        R"(expected a numeric IPv6 address between the brackets, got "[1.2.3.4]")");
  CHECK(listen_error("[::1]8000") ==
        R"(expected "[IPV6]:PORT" like "[::1]:8000", got "[::1]8000")");
  CHECK(listen_error("[::1") == R"(expected "[IPV6]:PORT" like "[::1]:8000", got "[::1")");
}

// [sockets.NAME]

TEST_CASE("a socket takes default backlog and mode") {
  Config config = load_ok(kWebSocket);
  REQUIRE(config.sockets.size() == 1);
  const SocketConfig& web = config.sockets[0];
  CHECK(web.name == "web");
  CHECK(web.listen == "0.0.0.0:8000");
  CHECK(web.backlog == 511);
  CHECK(web.mode == 0660);
  CHECK(config.find_socket("web") == &web);
  CHECK(config.find_socket("api") == nullptr);
}

TEST_CASE("sockets are listed in file order whatever their names") {
  Config config = load_ok(R"([sockets.zeta]
listen = "127.0.0.1:1"
[sockets.alpha]
listen = "127.0.0.1:2"
[sockets]
mid = { listen = "127.0.0.1:3" }
)");
  REQUIRE(config.sockets.size() == 3);
  CHECK(config.sockets[0].name == "zeta");
  CHECK(config.sockets[1].name == "alpha");
  CHECK(config.sockets[2].name == "mid");
}

TEST_CASE("a socket without listen is reported at its table header") {
  ConfigError error = load_error("\n[sockets.web]\nbacklog = 10\n");
  check_at(error, 2, 1, "sockets.web.listen");
  CHECK(error.message ==
        R"(required key is missing: the address to listen on, like listen = "0.0.0.0:8000")");
}

TEST_CASE("a bad listen address is reported at the value with what was expected") {
  ConfigError error = load_error("[sockets.web]\nlisten = \"8000\"\n");
  check_at(error, 2, 10, "sockets.web.listen");
  CHECK(error.message == R"(expected "HOST:PORT", "[IPV6]:PORT" or "unix:PATH", got "8000")");

  error = load_error("[sockets.web]\nlisten = 8000\n");
  check_at(error, 2, 10, "sockets.web.listen");
  CHECK(error.message ==
        R"(expected an address like "0.0.0.0:8000" or "unix:/run/web.sock", got integer)");
}

TEST_CASE("a backlog is an integer from 1 to 65535") {
  CHECK(load_ok(kWebSocket + "backlog = 65535\n").sockets.at(0).backlog == 65535);
  CHECK(load_ok(kWebSocket + "backlog = 1\n").sockets.at(0).backlog == 1);
  ConfigError error = load_error(kWebSocket + "backlog = 0\n");
  check_at(error, 3, 11, "sockets.web.backlog");
  CHECK(error.message == "expected an integer from 1 to 65535, got 0");
  CHECK(load_error(kWebSocket + "backlog = 65536\n").message ==
        "expected an integer from 1 to 65535, got 65536");
  CHECK(load_error(kWebSocket + "backlog = \"511\"\n").message ==
        "expected an integer from 1 to 65535, got string");
}

TEST_CASE("a unix socket's mode is octal digits") {
  Config config = load_ok("[sockets.api]\nlisten = \"unix:api.sock\"\nmode = \"0600\"\n");
  CHECK(config.sockets.at(0).mode == 0600);
  CHECK(config.sockets.at(0).path == "/srv/site/api.sock");
  ConfigError error = load_error("[sockets.api]\nlisten = \"unix:api.sock\"\nmode = \"0680\"\n");
  check_at(error, 3, 8, "sockets.api.mode");
  CHECK(error.message == R"(expected an octal file mode like "0600", got "0680")");
}

TEST_CASE("a mode on a TCP socket is reported at the mode") {
  ConfigError error = load_error(kWebSocket + "mode = \"0660\"\n");
  check_at(error, 3, 8, "sockets.web.mode");
  CHECK(error.message == R"(only used with unix sockets, but listen is "0.0.0.0:8000")");
}

TEST_CASE("unknown socket keys are reported") {
  ConfigError error = load_error(kWebSocket + "user = \"www\"\n");
  check_at(error, 3, 1, "sockets.web.user");
  CHECK(error.message == "unknown key");
}

TEST_CASE("a socket name with characters outside A-Z a-z 0-9 _ . - is reported") {
  ConfigError error = load_error("[sockets.\"a:b\"]\nlisten = \"127.0.0.1:1\"\n");
  check_at(error, 1, 10, "sockets.a:b");
  CHECK(error.message ==
        R"(expected a socket name of letters, digits, '_', '.' and '-', got "a:b")");
  load_ok("[sockets.\"web-1.blue_A\"]\nlisten = \"127.0.0.1:1\"\n");
}

TEST_CASE("sockets must be a table of tables") {
  ConfigError error = load_error("sockets = 3\n");
  check_at(error, 1, 11, "sockets");
  CHECK(error.message == "expected a table of sockets like [sockets.web], got integer");

  error = load_error("[sockets]\nweb = \"0.0.0.0:80\"\n");
  check_at(error, 2, 7, "sockets.web");
  CHECK(error.message == "expected a table, got string");
}

TEST_CASE("two sockets on one address are reported at the second, naming the first") {
  ConfigError error = load_error(kWebSocket + "[sockets.api]\nlisten = \"0.0.0.0:8000\"\n");
  check_at(error, 4, 10, "sockets.api.listen");
  CHECK(error.message == R"(same address as sockets.web ("0.0.0.0:8000"))");

  // Addresses are compared as the kernel sees them, not as written.
  error = load_error(
      "[sockets.a]\nlisten = \"localhost:80\"\n[sockets.b]\nlisten = \"127.0.0.1:80\"\n");
  check_at(error, 4, 10, "sockets.b.listen");
  CHECK(error.message == R"(same address as sockets.a ("localhost:80"))");
  error = load_error("[sockets.a]\nlisten = \"[::1]:80\"\n[sockets.b]\nlisten = \"[0::1]:80\"\n");
  check_at(error, 4, 10, "sockets.b.listen");
  error = load_error(
      "[sockets.a]\nlisten = \"unix:/srv/site/a.sock\"\n[sockets.b]\nlisten = \"unix:a.sock\"\n");
  check_at(error, 4, 10, "sockets.b.listen");
  CHECK(error.message == R"(same address as sockets.a ("unix:/srv/site/a.sock"))");
}

TEST_CASE("only the second of three sockets on one address names the first") {
  LoadResult result = load_string(R"([sockets]
a = { listen = "127.0.0.1:80" }
b = { listen = "127.0.0.1:80" }
c = { listen = "127.0.0.1:80" }
)",
                                  kPath);
  REQUIRE(result.errors.size() == 2);
  CHECK(result.errors[0].to_string() ==
        kPath + R"(:3:16: sockets.b.listen: same address as sockets.a ("127.0.0.1:80"))");
  CHECK(result.errors[1].to_string() ==
        kPath + R"(:4:16: sockets.c.listen: same address as sockets.a ("127.0.0.1:80"))");
}

TEST_CASE("sockets on port 0, other ports, hosts or families do not clash") {
  Config config = load_ok(R"([sockets]
a = { listen = "127.0.0.1:0" }
b = { listen = "127.0.0.1:0" }
c = { listen = "127.0.0.1:81" }
d = { listen = "127.0.0.2:81" }
e = { listen = "[::]:81" }
f = { listen = "unix:a.sock" }
g = { listen = "unix:b.sock" }
)");
  CHECK(config.sockets.size() == 7);
}

// Apps and their sockets

TEST_CASE("a full config with sockets and a node app is read into the structs") {
  NoSchedulingEnv env;
  Config config = load_ok(R"([sockets.web]
listen = "[::]:8000"
backlog = 1024

[sockets.admin]
listen = "unix:run/admin.sock"
backlog = 16
mode = "0600"

[apps.web]
exec = "/usr/bin/node"
args = ["server.js"]
instances = 2
protocol = "node"
sockets = ["web", "admin"]
scheduling = "none"
max_pending = 0
pending_timeout = "2s"

[apps.cron]
exec = "./cron"
)");
  REQUIRE(config.sockets.size() == 2);
  SocketConfig web;
  web.name = "web";
  web.listen = "[::]:8000";
  web.family = Family::ipv6;
  web.host = "::";
  web.port = 8000;
  web.backlog = 1024;
  CHECK(config.sockets[0] == web);
  SocketConfig admin;
  admin.name = "admin";
  admin.listen = "unix:run/admin.sock";
  admin.family = Family::unix_path;
  admin.path = "/srv/site/run/admin.sock";
  admin.backlog = 16;
  admin.mode = 0600;
  CHECK(config.sockets[1] == admin);

  REQUIRE(config.apps.size() == 2);
  const AppConfig& app = config.apps[0];
  CHECK(app.protocol == Protocol::node);
  CHECK(app.sockets == std::vector<std::string>{"web", "admin"});
  CHECK(app.scheduling == Scheduling::none);
  CHECK(app.max_pending == 0);
  CHECK(app.pending_timeout == 2s);

  const AppConfig& cron = config.apps[1];
  CHECK(cron.protocol == Protocol::none);
  CHECK(cron.sockets.empty());
  CHECK(cron.scheduling == Scheduling::rr);
  CHECK(cron.max_pending == 1024);
  CHECK(cron.pending_timeout == 10s);
}
