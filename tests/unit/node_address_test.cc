#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdint>

#include "config/config.h"
#include "daemon/common/node_address.h"

using muster::config::SocketConfig;
using muster::daemon::declared_answers;
using muster::daemon::ListenQuery;
using muster::daemon::on_demand_binds;
using muster::daemon::on_demand_name;

namespace {

SocketConfig declared(const std::string& listen) {
  return muster::config::parse_listen(listen, "/").value();
}

ListenQuery query(std::optional<std::string> address, int port, int type = 4) {
  ListenQuery q;
  q.address = std::move(address);
  q.port = port;
  q.address_type = type;
  return q;
}

std::vector<SocketConfig> binds(const ListenQuery& q) {
  return on_demand_binds(q, "node:k").value();
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
  CHECK(on_demand_binds(query(std::nullopt, 70000), "k").error().errno_value == EINVAL);
  CHECK(on_demand_binds(query("x", 1, 0), "k").error().errno_value == EINVAL);
}

namespace {

muster::Result<ListenQuery> parsed(const char* json) {
  return muster::daemon::parse_listen_query(boost::json::parse(json).as_object());
}

// The errno a refused query is answered with (0: not refused).
int refused_with(const char* json) {
  auto q = parsed(json);
  return q ? 0 : q.error().errno_value;
}

}  // namespace

TEST_CASE("a queryServer's numbers are taken only as integers an int holds, never wrapped") {
  auto ok = parsed(R"({"address":"127.0.0.1","port":8080,"addressType":4,"backlog":511,)"
                   R"("index":0,"flags":0})");
  REQUIRE(ok.ok());
  CHECK(ok->port == 8080);
  CHECK(ok->backlog == 511);
  CHECK(ok->key == "127.0.0.1:8080:4:undefined:0");
  // 2^32 + 8080, which a cast to int makes 8080.
  CHECK(refused_with(R"({"port":4294975376})") == EINVAL);
  CHECK(refused_with(R"({"port":8080.5})") == EINVAL);
  CHECK(refused_with(R"({"port":1e300})") == EINVAL);
  CHECK(refused_with(R"({"port":18446744073709551615})") == EINVAL);
  CHECK(refused_with(R"({"port":"80"})") == EINVAL);
  CHECK(refused_with(R"({"port":80,"backlog":4294967297})") == EINVAL);
  CHECK(refused_with(R"({"port":80,"addressType":4294967300})") == EINVAL);
  CHECK(refused_with(R"({"port":80,"flags":1099511627776})") == EINVAL);
  CHECK(refused_with(R"({"port":80,"index":8589934592})") == EINVAL);
  CHECK(refused_with(R"({"port":80,"fd":18446744073709551615})") == EINVAL);
  CHECK(refused_with(R"({"port":80,"fd":3})") == EINVAL);  // its own fd
  CHECK(refused_with(R"({"port":80,"address":5})") == EINVAL);
}

TEST_CASE("absent, null and false numbers of a queryServer take Node's defaults") {
  auto q = parsed(R"({"port":80.0,"backlog":false,"flags":null,"fd":-1})").value();
  CHECK(q.port == 80);
  CHECK(q.backlog == 0);
  CHECK(q.flags == 0);
  CHECK(q.address_type == 4);
  CHECK_FALSE(q.address);
  auto udp = parsed(R"({"address":"::","port":53,"addressType":"udp6"})").value();
  CHECK(udp.datagram);
  CHECK(udp.address_type == 6);
}

TEST_CASE("exact_integer takes a double only without a fraction and inside the bounds") {
  using muster::daemon::exact_integer;
  CHECK(exact_integer(boost::json::value(5.0), 0, 10) == 5);
  CHECK_FALSE(exact_integer(boost::json::value(5.5), 0, 10));
  CHECK_FALSE(exact_integer(boost::json::value(11), 0, 10));
  CHECK_FALSE(exact_integer(boost::json::value(-1), 0, 10));
  CHECK_FALSE(exact_integer(boost::json::value(9.3e18), 0, INT64_MAX));
  CHECK_FALSE(exact_integer(boost::json::value(std::uint64_t{1} << 63), 0, INT64_MAX));
  CHECK_FALSE(exact_integer(boost::json::value(true), 0, 10));
}

TEST_CASE("an on-demand socket is named for what it listens on, not by Node's key") {
  CHECK(on_demand_name(query(std::nullopt, 21001)) == "tcp *:21001");
  CHECK(on_demand_name(query("127.0.0.1", 8000)) == "tcp4 127.0.0.1:8000");
  CHECK(on_demand_name(query("::1", 8000, 6)) == "tcp6 [::1]:8000");
  CHECK(on_demand_name(query("/run/app.sock", -1, -1)) == "unix /run/app.sock");
  ListenQuery udp = query("0.0.0.0", 5353);
  udp.datagram = true;
  CHECK(on_demand_name(udp) == "udp4 0.0.0.0:5353");
  udp.address = "::";
  udp.address_type = 6;
  CHECK(on_demand_name(udp) == "udp6 [::]:5353");
}

TEST_CASE("a worker's second server on the same address gets its own name") {
  ListenQuery second = query(std::nullopt, 21001);
  second.index = 1;
  CHECK(on_demand_name(second) == "tcp *:21001#1");
  CHECK(on_demand_name(second) != on_demand_name(query(std::nullopt, 21001)));
}
