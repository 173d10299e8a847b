// Sockets bound on demand across an in-place upgrade (issue 25;
// daemon/network/on_demand_handover.cc, socket_config_json.cc): what one musterd
// hands over, a fresh OnDemandSockets (the new musterd's) takes over: the
// same socket (fd), its settings, its users, and the grace for an unused
// one; a unix socket's file, which the new musterd removes at close. The
// binds are real (127.0.0.1, ephemeral ports; a unix path in a temp dir).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <string>

#include "daemon/network/on_demand.h"
#include "daemon/network/socket_config_json.h"

using namespace muster;
using daemon::ListenSocket;
using daemon::OnDemandSockets;
using namespace std::chrono_literals;

namespace {

config::AppConfig web(config::Duration grace = 10s) {
  config::AppConfig a;
  a.name = "web";
  a.protocol = config::Protocol::node;
  a.on_demand_grace = grace;
  return a;
}

daemon::ListenQuery tcp(int index) {
  daemon::ListenQuery q;
  q.address = "127.0.0.1";
  q.port = 0;
  q.index = index;
  q.key = "127.0.0.1:0:4:undefined:" + std::to_string(index);
  return q;
}

ListenSocket* acquire(OnDemandSockets& sockets, int index, unsigned worker) {
  ListenSocket* got = nullptr;
  sockets.acquire("web", tcp(index), worker, nullptr, [&](OnDemandSockets::Answer a) {
    got = a ? *a : nullptr;
    return true;
  });
  return got;
}

}  // namespace

TEST_CASE("sockets bound on demand are taken over with their fd, settings and users",
          "[handover]") {
  boost::asio::io_context io;
  OnDemandSockets old(io);
  old.configure(web());
  ListenSocket* used = acquire(old, 0, 7);
  ListenSocket* unused = acquire(old, 1, 8);
  REQUIRE(used);
  REQUIRE(unused);
  old.release_all("web", 8);  // its grace runs; it crosses all the same
  CHECK_FALSE(old.busy_for_handover());
  boost::json::array carried = old.hand_over();
  REQUIRE(carried.size() == 2);
  // The new musterd gets copies of the fds (the exec keeps the numbers).
  for (auto& c : carried) {
    int copy = ::fcntl(static_cast<int>(c.at("fd").as_int64()), F_DUPFD_CLOEXEC, 0);
    REQUIRE(copy >= 0);
    c.as_object()["fd"] = copy;
  }
  OnDemandSockets taken(io);
  taken.configure(web(0s));
  REQUIRE(taken.adopt(carried));
  ListenSocket* same = taken.find("web", used->config().name);
  REQUIRE(same);
  CHECK(same->config() == used->config());
  CHECK(same->bound() == used->bound());
  CHECK(taken.find("other", used->config().name) == nullptr);
  CHECK(taken.count("web") == 2);
  // The worker that used it still does: a listen() of the same key is the
  // same socket; the unused one closes after the (new) grace.
  CHECK(acquire(taken, 0, 9) == same);
  io.restart();
  io.run_for(100ms);
  CHECK(taken.count("web") == 1);
}

TEST_CASE("a unix socket bound on demand crosses with its file, removed at close by the new one",
          "[handover]") {
  char dir[] = "/tmp/muster-odh-test-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  const std::string path = std::string(dir) + "/w.sock";
  boost::asio::io_context io;
  OnDemandSockets old(io);
  old.configure(web());
  daemon::ListenQuery q;
  q.address = path;
  q.address_type = -1;
  q.key = path + ":-1:-1:undefined:0";
  bool answered = false;
  old.acquire("web", q, 7, nullptr, [&](OnDemandSockets::Answer a) {
    answered = static_cast<bool>(a);
    return true;
  });
  io.run_for(5s);  // bound in a child
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  REQUIRE(answered);
  boost::json::array carried = old.hand_over();
  REQUIRE(carried.size() == 1);
  REQUIRE(carried[0].as_object().contains("file"));
  auto& o = carried[0].as_object();
  o["fd"] = ::fcntl(static_cast<int>(o["fd"].as_int64()), F_DUPFD_CLOEXEC, 0);
  auto& file = o["file"].as_object();
  file["dir_fd"] = ::fcntl(static_cast<int>(file["dir_fd"].as_int64()), F_DUPFD_CLOEXEC, 0);
  {
    OnDemandSockets taken(io);
    taken.configure(web(0s));
    REQUIRE(taken.adopt(carried));
    taken.release_all("web", 7);
    io.restart();
    io.run_for(100ms);  // the grace: closed, and its file removed
    CHECK(taken.count("web") == 0);
    struct stat st {};
    CHECK(::lstat(path.c_str(), &st) < 0);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a socket's settings survive JSON, and a bad field is named", "[handover]") {
  config::SocketConfig s;
  s.name = "udp [::]:5353";
  s.listen = "[::]:5353";
  s.family = config::SocketConfig::Family::ipv6;
  s.host = "::";
  s.port = 5353;
  s.datagram = true;
  s.ipv6_only = false;
  s.reuseaddr = true;
  auto back = daemon::socket_config_from_json(daemon::socket_config_to_json(s));
  REQUIRE(back);
  CHECK(*back == s);
  auto bad = daemon::socket_config_to_json(s);
  bad.as_object()["port"] = 70000;
  auto refused = daemon::socket_config_from_json(bad);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("port"));
}

TEST_CASE("a record without its fields is refused", "[handover]") {
  boost::asio::io_context io;
  OnDemandSockets sockets(io);
  boost::json::array carried{boost::json::object{{"app", "web"}, {"key", "k"}}};
  auto adopted = sockets.adopt(carried);
  REQUIRE_FALSE(adopted);
  CHECK_THAT(adopted.error().message, Catch::Contains("lacks"));
}
