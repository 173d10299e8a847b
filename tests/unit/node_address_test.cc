#include <catch2/catch.hpp>

#include <cerrno>

#include "config/config.h"
#include "daemon/node_address.h"

using muster::config::SocketConfig;
using muster::daemon::declared_answers;
using muster::daemon::ListenQuery;
using muster::daemon::on_demand_binds;

namespace {

SocketConfig declared(const std::string& listen) {
  return std::get<SocketConfig>(muster::config::parse_listen(listen, "/"));
}

ListenQuery query(std::optional<std::string> address, int port, int type = 4) {
  ListenQuery q;
  q.address = std::move(address);
  q.port = port;
  q.address_type = type;
  return q;
}

std::vector<SocketConfig> binds(const ListenQuery& q) {
  return std::get<std::vector<SocketConfig>>(on_demand_binds(q, "node:k"));
}

}  // namespace

TEST_CASE("listen(port) with no host is answered by any declared TCP socket on that port") {
  CHECK(declared_answers(declared("[::]:8000"), 8000, query(std::nullopt, 8000)));
  CHECK(declared_answers(declared("0.0.0.0:8000"), 8000, query(std::nullopt, 8000)));
  CHECK(declared_answers(declared("127.0.0.1:8000"), 8000, query(std::nullopt, 8000)));
  CHECK_FALSE(declared_answers(declared("[::]:8001"), 8001, query(std::nullopt, 8000)));
}

TEST_CASE("a dual-stack declared socket answers IPv4 addresses; an IPv4 one no IPv6") {
  CHECK(declared_answers(declared("[::]:8000"), 8000, query("127.0.0.1", 8000)));
  CHECK(declared_answers(declared("[::]:8000"), 8000, query("0.0.0.0", 8000)));
  CHECK(declared_answers(declared("[::]:8000"), 8000, query("::1", 8000, 6)));
  CHECK_FALSE(declared_answers(declared("[::1]:8000"), 8000, query("127.0.0.1", 8000)));
  CHECK_FALSE(declared_answers(declared("0.0.0.0:8000"), 8000, query("::", 8000, 6)));
  CHECK_FALSE(declared_answers(declared("127.0.0.1:8000"), 8000, query("127.0.0.2", 8000)));
}

TEST_CASE("UDP queries are never answered by declared sockets") {
  ListenQuery q = query("0.0.0.0", 8000);
  q.datagram = true;
  CHECK_FALSE(declared_answers(declared("0.0.0.0:8000"), 8000, q));
}

TEST_CASE("listen(port) with no host binds [::] dual stack, then 0.0.0.0 as Node does") {
  auto b = binds(query(std::nullopt, 8000));
  REQUIRE(b.size() == 2);
  CHECK(b[0].listen == "[::]:8000");
  CHECK(b[0].ipv6_only == false);
  CHECK(b[1].listen == "0.0.0.0:8000");
  ListenQuery v6only = query(std::nullopt, 8000);
  v6only.flags = muster::daemon::kIpv6Only;  // Node 22+ sends ipv6Only without a host too
  CHECK(binds(v6only).at(0).ipv6_only == true);
}

TEST_CASE("an IPv6 address binds IPV6_V6ONLY exactly as the worker's flags say") {
  ListenQuery q = query("::", 8000, 6);
  CHECK(binds(q).at(0).ipv6_only == false);
  q.flags = muster::daemon::kIpv6Only;
  CHECK(binds(q).at(0).ipv6_only == true);
}

TEST_CASE("a UDP query binds a datagram socket with the worker's reuseAddr") {
  ListenQuery q = query("0.0.0.0", 41234);
  q.datagram = true;
  q.flags = muster::daemon::kReuseAddr;
  auto b = binds(q);
  REQUIRE(b.size() == 1);
  CHECK(b[0].datagram);
  CHECK(b[0].reuseaddr);
  CHECK(b[0].listen == "0.0.0.0:41234");
}

TEST_CASE("a query Node could not bind is EINVAL") {
  CHECK(std::get<int>(on_demand_binds(query(std::nullopt, 70000), "k")) == -EINVAL);
  CHECK(std::get<int>(on_demand_binds(query("x", 1, 0), "k")) == -EINVAL);
}
