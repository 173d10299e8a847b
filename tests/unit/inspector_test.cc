// How a worker gets Node's --inspect (daemon/supervision/inspector.cc).
#include <catch2/catch.hpp>

#include "daemon/supervision/inspector.h"

using muster::daemon::add_inspector;
using muster::daemon::runs_node_directly;
using muster::daemon::SpawnSpec;

TEST_CASE("node and nodejs are Node itself, a script or wrapper is not", "[inspect]") {
  CHECK(runs_node_directly("/usr/bin/node"));
  CHECK(runs_node_directly("/opt/node-v20/bin/nodejs"));
  CHECK_FALSE(runs_node_directly("/srv/app/server.js"));
  CHECK_FALSE(runs_node_directly("/usr/bin/env"));
  CHECK_FALSE(runs_node_directly("/srv/node/run"));
}

TEST_CASE("Node itself gets --inspect before the script", "[inspect]") {
  SpawnSpec spec;
  spec.executable = "/usr/bin/node";
  spec.args = {"--max-old-space-size=512", "app.js", "--port=1"};
  spec.env = {"PATH=/usr/bin"};
  add_inspector(spec, "127.0.0.1:9230");
  CHECK(spec.args == std::vector<std::string>{"--inspect=127.0.0.1:9230",
                                              "--max-old-space-size=512", "app.js", "--port=1"});
  CHECK(spec.env == std::vector<std::string>{"PATH=/usr/bin"});
}

TEST_CASE("another executable gets --inspect in NODE_OPTIONS", "[inspect]") {
  SpawnSpec spec;
  spec.executable = "/srv/app/start.sh";
  spec.args = {"app.js"};
  spec.env = {"PATH=/usr/bin"};
  add_inspector(spec, "[::1]:9229");
  CHECK(spec.args == std::vector<std::string>{"app.js"});
  CHECK(spec.env == std::vector<std::string>{"PATH=/usr/bin", "NODE_OPTIONS=--inspect=[::1]:9229"});
}

TEST_CASE("an existing NODE_OPTIONS keeps its options, --inspect after them", "[inspect]") {
  SpawnSpec spec;
  spec.executable = "/srv/app/server.js";
  spec.env = {"NODE_OPTIONS=--max-old-space-size=512", "HOME=/srv"};
  add_inspector(spec, "127.0.0.1:9229");
  CHECK(spec.env ==
        std::vector<std::string>{"NODE_OPTIONS=--max-old-space-size=512 --inspect=127.0.0.1:9229",
                                 "HOME=/srv"});
  spec.env = {"NODE_OPTIONS="};
  add_inspector(spec, "127.0.0.1:9229");
  CHECK(spec.env == std::vector<std::string>{"NODE_OPTIONS=--inspect=127.0.0.1:9229"});
}
