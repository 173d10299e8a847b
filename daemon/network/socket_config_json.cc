#include "daemon/network/socket_config_json.h"

#include <boost/json.hpp>

#include "ipc/json_number.h"

namespace muster::daemon {
namespace json = boost::json;
using config::SocketConfig;

json::value socket_config_to_json(const SocketConfig& s) {
  json::value ipv6_only = nullptr;
  if (s.ipv6_only) ipv6_only = *s.ipv6_only;
  return {
      {"name", s.name},         {"listen", s.listen},       {"family", static_cast<int>(s.family)},
      {"host", s.host},         {"port", s.port},           {"path", s.path},
      {"backlog", s.backlog},   {"reuseport", s.reuseport}, {"nonblocking", s.nonblocking},
      {"datagram", s.datagram}, {"ipv6_only", ipv6_only},   {"reuseaddr", s.reuseaddr}};
}

Result<SocketConfig> socket_config_from_json(const json::value& v) {
  const json::object* o = v.if_object();
  if (!o) return Error{"socket: not an object"};
  SocketConfig s;
  auto text = [o](const char* key, std::string& out) {
    const json::value* f = o->if_contains(key);
    if (!f || !f->is_string()) return false;
    out = std::string(f->as_string());
    return true;
  };
  auto integer = [o](const char* key, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
    auto n = ipc::json_number<std::int64_t>(o->if_contains(key));
    if (!n || *n < lo || *n > hi) return false;
    out = *n;
    return true;
  };
  auto flag = [o](const char* key, bool& out) {
    const json::value* f = o->if_contains(key);
    if (!f || !f->is_bool()) return false;
    out = f->as_bool();
    return true;
  };
  std::int64_t family = 0, port = 0, backlog = 0;
  if (!text("name", s.name) || !text("listen", s.listen) || !text("host", s.host) ||
      !text("path", s.path))
    return Error{"socket: a name, listen, host or path that is not a string"};
  if (!integer("family", 0, 2, family) || !integer("port", 0, 65535, port) ||
      !integer("backlog", 0, 1 << 30, backlog))
    return Error{"socket " + s.name + ": a family, port or backlog out of range"};
  if (!flag("reuseport", s.reuseport) || !flag("nonblocking", s.nonblocking) ||
      !flag("datagram", s.datagram) || !flag("reuseaddr", s.reuseaddr))
    return Error{"socket " + s.name + ": a flag that is not a boolean"};
  s.family = static_cast<SocketConfig::Family>(family);
  s.port = static_cast<std::uint16_t>(port);
  s.backlog = static_cast<int>(backlog);
  if (const json::value* f = o->if_contains("ipv6_only"); f && f->is_bool())
    s.ipv6_only = f->as_bool();
  return s;
}

}  // namespace muster::daemon
