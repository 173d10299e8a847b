// [apps.NAME] relay and affinity (config/cluster_options.cc).
#include <catch2/catch.hpp>

#include <string>

#include "config/config.h"
#include "tests/unit/config_support.h"

using namespace muster::config;
using muster::test::check_at;
using muster::test::load_error;
using muster::test::load_ok;

namespace {
const std::string kNode = "[apps.web]\nexec = \"x\"\nprotocol = \"node\"\n";
}  // namespace

TEST_CASE("relay and affinity are off unless set", "[config]") {
  AppConfig app = load_ok(kNode).apps.at(0);
  CHECK_FALSE(app.relay);
  CHECK(app.affinity == Affinity::none);
}

TEST_CASE("a node app reads relay and affinity", "[config]") {
  AppConfig app = load_ok(kNode + "relay = true\naffinity = \"client-ip\"\n").apps.at(0);
  CHECK(app.relay);
  CHECK(app.affinity == Affinity::client_ip);
  CHECK(load_ok(kNode + "affinity = \"none\"\n").apps.at(0).affinity == Affinity::none);
}

TEST_CASE("an unknown affinity is reported at the value", "[config]") {
  ConfigError error = load_error(kNode + "affinity = \"sticky\"\n");
  check_at(error, 4, 12, "apps.web.affinity");
  CHECK(error.message == R"(expected one of none, client-ip, got "sticky")");
}

TEST_CASE("affinity needs scheduling rr", "[config]") {
  ConfigError error = load_error(kNode + "scheduling = \"none\"\naffinity = \"client-ip\"\n");
  check_at(error, 5, 12, "apps.web.affinity");
  CHECK(error.message == R"(affinity "client-ip" needs scheduling "rr" (the kernel or the )"
                         R"(workers pick the worker otherwise), but scheduling is "none")");
}

TEST_CASE("affinity and relay need protocol node", "[config]") {
  const std::string plain = "[apps.web]\nexec = \"x\"\n";
  ConfigError error = load_error(plain + "affinity = \"client-ip\"\n");
  check_at(error, 3, 12, "apps.web.affinity");
  CHECK(error.message == R"(affinity "client-ip" needs protocol "node" and scheduling "rr", )"
                         R"(but protocol is "none")");
  error = load_error(plain + "relay = true\n");
  check_at(error, 3, 9, "apps.web.relay");
  CHECK(error.message == R"(relays messages between Node workers: needs protocol "node", but )"
                         R"(protocol is "none")");
  CHECK_FALSE(load_ok(plain + "relay = false\n").apps.at(0).relay);
}

TEST_CASE("relay must be a boolean", "[config]") {
  ConfigError error = load_error(kNode + "relay = \"yes\"\n");
  check_at(error, 4, 9, "apps.web.relay");
}

TEST_CASE("serialization is json unless set to advanced", "[config]") {
  CHECK(load_ok(kNode).apps.at(0).serialization == Serialization::json);
  CHECK(load_ok(kNode + "serialization = \"advanced\"\n").apps.at(0).serialization ==
        Serialization::advanced);
  CHECK(load_ok(kNode + "serialization = \"json\"\n").apps.at(0).serialization ==
        Serialization::json);
}

TEST_CASE("an unknown serialization is reported at the value", "[config]") {
  ConfigError error = load_error(kNode + "serialization = \"v8\"\n");
  check_at(error, 4, 17, "apps.web.serialization");
  CHECK(error.message == R"(expected one of json, advanced, got "v8")");
}

TEST_CASE("advanced serialization needs protocol node", "[config]") {
  const std::string plain = "[apps.web]\nexec = \"x\"\n";
  ConfigError error = load_error(plain + "serialization = \"advanced\"\n");
  check_at(error, 3, 17, "apps.web.serialization");
  CHECK(error.message ==
        R"(serialization "advanced" is the Node IPC channel's: needs protocol "node", )"
        R"(but protocol is "none")");
  CHECK(load_ok(plain + "serialization = \"json\"\n").apps.at(0).serialization ==
        Serialization::json);
}
