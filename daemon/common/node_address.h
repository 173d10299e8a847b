// How Node's primary answers a worker's queryServer with a socket, as pure
// decisions (no socket is opened here): which declared [sockets.*] entry
// answers the query, and otherwise what Node's primary would bind
// (lib/internal/cluster/primary.js queryServer, which ends in lib/net.js
// createServerHandle for TCP and lib/dgram.js _createSocketHandle for UDP).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace muster::daemon {

// What a Node worker's queryServer asks for (lib/internal/cluster/child.js,
// filled in by lib/net.js listenInCluster or lib/dgram.js bindServerHandle).
struct ListenQuery {
  std::optional<std::string> address;  // null: listen(port) with no host
  int port = 0;
  int address_type = 4;   // 4, 6, or -1 (unix path in `address`)
  bool datagram = false;  // dgram: addressType "udp4" / "udp6"
  int flags = 0;          // libuv bind flags (kIpv6Only, kReuseAddr)
  int index = 0;
  int backlog = 0;  // 0/false: the default
  std::string key;  // Node's key: address:port:addressType:fd:index
};

// Node's key for a server: `${address}:${port}:${addressType}:${fd}:${index}`.
std::string node_key(const boost::json::object& message);

// The ListenQuery of a queryServer message, or the error with the errno
// Node's primary answers (negated). Every number must be an integer a C int
// holds (the port, index, backlog, flags, addressType; an fd, which musterd
// refuses anyway): a fractional, huge or non-number value gets EINVAL, never
// a value wrapped or truncated into range (a port of 2^32 + 80 is not port 80).
Result<ListenQuery> parse_listen_query(const boost::json::object& message);

// `value` as an integer if it is one exactly (a JSON integer, or a double
// with no fraction) within [min, max]; else nullopt.
std::optional<std::int64_t> exact_integer(const boost::json::value& value, std::int64_t min,
                                          std::int64_t max);

// libuv's bind flags as the worker sends them (uv.h): UV_TCP_IPV6ONLY and
// UV_UDP_IPV6ONLY are both 1, UV_UDP_REUSEADDR is 4.
inline constexpr int kIpv6Only = 1;
inline constexpr int kReuseAddr = 4;

// Does the declared socket `s` answer `q`? `bound_port`: the port an
// ephemeral (port 0) socket got, 0 if not bound yet.
bool declared_answers(const config::SocketConfig& s, std::uint16_t bound_port,
                      const ListenQuery& q);

// The name an on-demand socket for `q` goes by in status, metrics and logs:
// what it listens on, "tcp *:8000" (no host: every address, dual stack),
// "tcp4 127.0.0.1:8000", "tcp6 [::1]:8000", "udp4 0.0.0.0:5353",
// "unix /run/app.sock", with "#N" for a worker's further server on the same
// address (Node's index). Node's own key ("null:8000:4:undefined:0") says
// the same in its primary's private terms.
std::string on_demand_name(const ListenQuery& q);

// The sockets Node's primary would bind for `q` (named `name`), in the order
// it tries them: the first that binds is used. For a query Node could not
// bind at all, the error with the errno Node answers (EINVAL) and what the
// query lacks.
Result<std::vector<config::SocketConfig>> on_demand_binds(const ListenQuery& q,
                                                          const std::string& name);

}  // namespace muster::daemon
