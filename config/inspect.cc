// [apps.NAME] inspect = "HOST:PORT": each Node worker's inspector on a port of
// its own, PORT + its instance. Node's primary counts from its debugPort + 1
// per fork (lib/internal/cluster/primary.js, createWorkerProcess), so a
// restarted worker gets a new port; muster keeps the slot's port, so that a
// debugger reconnects to the same address (docs/compatibility.md).
#include <string_view>

#include "config/apps.h"

namespace muster::config {
namespace {

using Family = SocketConfig::Family;

// Whether a listener on `a` and one on `b`, same port, would collide. "::"
// takes every address, IPv4 ones too (dual stack, musterd's default); an
// IPv4 wildcard every IPv4 address; specific addresses only themselves.
bool hosts_overlap(const SocketConfig& a, const SocketConfig& b) {
  if (a.host == b.host || a.host == "::" || b.host == "::") return true;
  if (a.host == "0.0.0.0") return b.family == Family::ipv4;
  if (b.host == "0.0.0.0") return a.family == Family::ipv4;
  return false;
}

struct PortRange {
  unsigned first;
  unsigned last;
  bool holds(unsigned port) const { return port >= first && port <= last; }
  bool meets(const PortRange& other) const { return first <= other.last && other.first <= last; }
};

PortRange range_of(const SocketConfig& inspect, unsigned instances) {
  unsigned count = instances == 0 ? 1 : instances;
  return {inspect.port, inspect.port + count - 1};
}

std::string range_text(const SocketConfig& inspect, unsigned instances) {
  PortRange range = range_of(inspect, instances);
  std::string text = "inspect = " + detail::quote(inspect.listen) + " takes port";
  if (range.first == range.last) return text + " " + std::to_string(range.first);
  return text + "s " + std::to_string(range.first) + "-" + std::to_string(range.last) + " (" +
         std::to_string(instances) + " instances)";
}

// The first clash of `app`'s range with a TCP listener on `socket`.
bool clashes(const SocketConfig& inspect, unsigned instances, const SocketConfig& socket) {
  if (socket.family == Family::unix_path || socket.listen.empty() || socket.port == 0) return false;
  return range_of(inspect, instances).holds(socket.port) && hosts_overlap(inspect, socket);
}

// `app` against another app's inspect range.
std::optional<std::string> app_clash(const AppConfig& app, unsigned instances,
                                     const AppConfig& other) {
  if (!other.inspect || other.name == app.name) return std::nullopt;
  if (!range_of(*app.inspect, instances).meets(range_of(*other.inspect, other.instances)) ||
      !hosts_overlap(*app.inspect, *other.inspect))
    return std::nullopt;
  return range_text(*app.inspect, instances) + ", which overlaps apps." + other.name + "'s " +
         range_text(*other.inspect, other.instances);
}

// Against declared sockets and metrics_listen; apps are the caller's.
std::optional<std::string> socket_clash(const AppConfig& app, unsigned instances,
                                        const Config& config) {
  const SocketConfig& inspect = *app.inspect;
  unsigned last = range_of(inspect, instances).last;
  if (last > 65535)
    return range_text(inspect, instances) + ", past 65535: lower the port or the instances";
  for (const SocketConfig& socket : config.sockets)
    if (clashes(inspect, instances, socket))
      return range_text(inspect, instances) + ", but sockets." + socket.name + " listens on " +
             detail::quote(socket.listen);
  if (config.daemon.metrics && clashes(inspect, instances, *config.daemon.metrics))
    return range_text(inspect, instances) + ", but metrics_listen is " +
           detail::quote(config.daemon.metrics->listen);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> inspector_address(const AppConfig& app, unsigned instance) {
  if (!app.inspect) return std::nullopt;
  unsigned port = app.inspect->port + instance;
  if (port > 65535) return std::nullopt;
  const std::string& host = app.inspect->host;
  return (app.inspect->family == Family::ipv6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

std::optional<std::string> inspect_range_problem(const AppConfig& app, unsigned instances,
                                                 const Config& config) {
  if (!app.inspect) return std::nullopt;
  if (auto problem = socket_clash(app, instances, config)) return problem;
  for (const AppConfig& other : config.apps)
    if (auto problem = app_clash(app, instances, other)) return problem;
  return std::nullopt;
}

namespace detail {

void read_inspect(Section& s, AppConfig& app, bool protocol_ok) {
  std::string text;
  const toml::node* node = s.find("inspect");
  if (!s.read_string("inspect", text) || node == nullptr || text.empty()) return;  // "" = off
  constexpr std::string_view kWhat =
      R"(a TCP address like "127.0.0.1:9229" or "[::1]:9229" (the first worker's inspector))";
  auto parsed = parse_listen(text, "/");
  const SocketConfig* address = parsed ? &*parsed : nullptr;
  if (address == nullptr || address->family == Family::unix_path || address->port == 0) {
    s.bad_value(*node, "inspect", kWhat, quote(text));
    return;
  }
  if (protocol_ok && app.protocol != Protocol::node) {
    s.error(*node, "inspect",
            std::string(R"(opens Node's inspector in each worker: needs protocol "node", but )"
                        R"(protocol is ")") +
                to_string(app.protocol) + "\"");
    return;
  }
  app.inspect = *address;
}

void check_inspect_ranges(const toml::table& root, const Config& config, ErrorList& errors) {
  for (auto app = config.apps.begin(); app != config.apps.end(); ++app) {
    if (!app->inspect) continue;
    std::optional<std::string> problem = socket_clash(*app, app->instances, config);
    for (auto other = config.apps.begin(); !problem && other != app; ++other)
      problem = app_clash(*app, app->instances, *other);
    const toml::node* at = root["apps"][app->name]["inspect"].node();
    if (problem && at) errors.add(at->source(), "apps." + app->name + ".inspect", *problem);
  }
}

}  // namespace detail
}  // namespace muster::config
