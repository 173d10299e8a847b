#include "daemon/common/node_address.h"

#include <boost/json/serialize.hpp>
#include <cerrno>
#include <climits>
#include <cmath>

namespace muster::daemon {
using config::SocketConfig;

namespace {

// A declared "[::]:PORT" is dual stack (bind_listen): it takes IPv4 too.
bool dual_stack(const SocketConfig& s) {
  return s.family == SocketConfig::Family::ipv6 && s.host == "::" && !s.ipv6_only.value_or(false);
}

bool is_wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::"; }

bool same_port(const SocketConfig& s, std::uint16_t bound_port, const ListenQuery& q) {
  // Port 0 asks for an ephemeral port: only an ephemeral socket answers it.
  return q.port != 0 ? q.port == bound_port || q.port == s.port : s.port == 0;
}

}  // namespace

// A worker's listen(PORT) with no host is answered by any declared TCP socket
// on that port: Node's primary would bind every address, dual stack
// (lib/net.js createServerHandle), so whatever the operator declared for the
// port is the app's. A named address is answered by a socket on that address
// or on every address of its family; a dual-stack "[::]" socket also answers
// IPv4 addresses, since it holds them (binding them beside it would fail).
bool declared_answers(const SocketConfig& s, std::uint16_t bound_port, const ListenQuery& q) {
  if (q.datagram || s.datagram) return false;  // the config declares TCP only
  if (s.family == SocketConfig::Family::unix_path)
    return q.address_type == -1 && q.address && *q.address == s.path;
  if (q.address_type == -1 || !same_port(s, bound_port, q)) return false;
  if (!q.address) return true;
  bool v6 = s.family == SocketConfig::Family::ipv6;
  if (q.address_type == 4 && v6) return dual_stack(s);
  if (q.address_type != (v6 ? 6 : 4)) return false;
  return *q.address == s.host || is_wildcard(s.host);
}

namespace {

SocketConfig ip_socket(const std::string& name, bool v6, const std::string& host, int port) {
  SocketConfig s;
  s.name = name;
  s.family = v6 ? SocketConfig::Family::ipv6 : SocketConfig::Family::ipv4;
  s.host = host;
  s.port = static_cast<std::uint16_t>(port);
  s.listen = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  return s;
}

}  // namespace

std::string on_demand_name(const ListenQuery& q) {
  std::string name;
  if (q.address_type == -1 && !q.datagram) {
    name = "unix " + q.address.value_or("");
  } else {
    name = q.datagram ? "udp" : "tcp";
    if (q.address)
      name += q.address_type == 6 ? "6 " : "4 ";
    else
      name += " ";
    if (!q.address)
      name += "*";
    else if (q.address_type == 6)
      name += "[" + *q.address + "]";
    else
      name += *q.address;
    name += ":" + std::to_string(q.port);
  }
  if (q.index != 0) name += "#" + std::to_string(q.index);
  return name;
}

Result<std::vector<SocketConfig>> on_demand_binds(const ListenQuery& q, const std::string& name) {
  if (q.address_type == -1 && !q.datagram) {
    if (!q.address || q.address->empty() || q.address->size() > 107)
      return Error{"a unix socket path of 1 to 107 bytes", EINVAL};
    SocketConfig s;
    s.name = name;
    s.family = SocketConfig::Family::unix_path;
    s.path = *q.address;
    s.listen = "unix:" + s.path;
    s.mode = 0666 & ~0022;
    s.backlog = q.backlog > 0 ? q.backlog : 511;
    return std::vector<SocketConfig>{s};
  }
  if ((q.address_type != 4 && q.address_type != 6) || q.port < 0 || q.port > 65535)
    return Error{"an address type of 4 or 6 and a port of 0 to 65535", EINVAL};
  std::vector<SocketConfig> binds;
  if (q.datagram) {
    // lib/dgram.js: the worker already defaulted the address ("0.0.0.0" for
    // udp4, "::" for udp6) and resolved it; _createSocketHandle binds it
    // with the worker's flags.
    if (!q.address) return Error{"a UDP socket's address", EINVAL};
    binds.push_back(ip_socket(name, q.address_type == 6, *q.address, q.port));
    binds.back().datagram = true;
    binds.back().reuseaddr = (q.flags & kReuseAddr) != 0;
    if (q.address_type == 6) binds.back().ipv6_only = (q.flags & kIpv6Only) != 0;
    return binds;
  }
  if (!q.address) {
    // lib/net.js createServerHandle: no address tries "::" first (dual
    // stack unless the flags say ipv6Only), and on any error falls back to
    // "0.0.0.0". Node 20 sends no flags here (ipv6Only without a host is
    // lost); Node 22 and 23 do.
    binds.push_back(ip_socket(name, true, "::", q.port));
    binds.back().ipv6_only = (q.flags & kIpv6Only) != 0;
    binds.push_back(ip_socket(name, false, "0.0.0.0", q.port));
  } else {
    binds.push_back(ip_socket(name, q.address_type == 6, *q.address, q.port));
    // libuv's uv_tcp_bind sets IPV6_V6ONLY exactly as the flag says.
    if (q.address_type == 6) binds.back().ipv6_only = (q.flags & kIpv6Only) != 0;
  }
  for (auto& s : binds) s.backlog = q.backlog > 0 ? q.backlog : 511;
  return binds;
}

std::optional<std::int64_t> exact_integer(const boost::json::value& v, std::int64_t min,
                                          std::int64_t max) {
  std::int64_t n = 0;
  if (v.is_int64()) {
    n = v.get_int64();
  } else if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    n = static_cast<std::int64_t>(v.get_uint64());
  } else if (v.is_double()) {
    // Compared as doubles first: casting one outside int64's range is undefined.
    double d = v.get_double();
    if (!std::isfinite(d) || d != std::trunc(d) || d < -9e18 || d > 9e18) return std::nullopt;
    n = static_cast<std::int64_t>(d);
  } else {
    return std::nullopt;
  }
  if (n < min || n > max) return std::nullopt;
  return n;
}

std::string node_key(const boost::json::object& m) {
  auto part = [&](std::string_view key) -> std::string {
    auto* v = m.if_contains(key);
    if (!v) return "undefined";
    if (v->is_string()) return std::string(v->get_string());
    return boost::json::serialize(*v);
  };
  return part("address") + ":" + part("port") + ":" + part("addressType") + ":" + part("fd") + ":" +
         part("index");
}

namespace {

// A field that is absent, null or false takes `fallback` (Node leaves
// backlog and flags undefined, and sends backlog false for "the default").
bool int_field(const boost::json::object& m, std::string_view key, int fallback, int& out) {
  auto* v = m.if_contains(key);
  if (!v || v->is_null() || (v->is_bool() && !v->get_bool())) {
    out = fallback;
    return true;
  }
  auto n = exact_integer(*v, INT_MIN, INT_MAX);
  if (n) out = static_cast<int>(*n);
  return n.has_value();
}

}  // namespace

Result<ListenQuery> parse_listen_query(const boost::json::object& m) {
  ListenQuery q;
  if (auto* a = m.if_contains("address"); a && !a->is_null()) {
    if (!a->is_string()) return Error{"an address that is not a string", EINVAL};
    q.address = std::string(a->get_string());
  }
  // lib/dgram.js sends addressType "udp4" / "udp6"; lib/net.js 4, 6 or -1.
  auto* type = m.if_contains("addressType");
  if (type && type->is_string()) {
    q.datagram = type->get_string() == "udp4" || type->get_string() == "udp6";
    q.address_type = q.datagram ? (type->get_string() == "udp6" ? 6 : 4) : 0;
  } else if (!int_field(m, "addressType", 4, q.address_type)) {
    return Error{"an addressType that is no integer an int holds", EINVAL};
  }
  int fd = -1;
  if (!int_field(m, "port", 0, q.port) || !int_field(m, "index", 0, q.index) ||
      !int_field(m, "backlog", 0, q.backlog) || !int_field(m, "flags", 0, q.flags) ||
      !int_field(m, "fd", -1, fd) || fd >= 0)
    // fd >= 0: a handle of the worker's own; musterd binds addresses only
    return Error{"a number that is no integer an int holds, or a handle of its own", EINVAL};
  q.key = node_key(m);
  return q;
}

}  // namespace muster::daemon
