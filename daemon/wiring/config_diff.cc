#include <algorithm>

#include "daemon/wiring/config_reload.h"

namespace muster::daemon {

bool ConfigDiff::empty() const {
  return apps_added.empty() && apps_removed.empty() && apps_reloaded.empty() &&
         apps_updated.empty() && sockets_added.empty() && sockets_removed.empty() &&
         sockets_rebound.empty();
}

bool worker_facing_change(const config::AppConfig& a, const config::AppConfig& b) {
  return a.exec != b.exec || a.args != b.args || a.cwd != b.cwd || a.env != b.env ||
         a.env_inherit != b.env_inherit || a.protocol != b.protocol || a.user != b.user ||
         a.group != b.group || a.output != b.output || a.output_file != b.output_file ||
         a.sockets != b.sockets || a.scheduling != b.scheduling || a.stop_signal != b.stop_signal ||
         a.watchdog != b.watchdog || a.ready != b.ready || a.serialization != b.serialization ||
         a.inspect != b.inspect;
}

ConfigDiff diff_configs(const config::Config& old_config, const config::Config& new_config) {
  ConfigDiff d;
  for (const auto& s : new_config.sockets) {
    const config::SocketConfig* was = old_config.find_socket(s.name);
    if (!was)
      d.sockets_added.push_back(s.name);
    else if (!(*was == s))
      d.sockets_rebound.push_back(s.name);
  }
  for (const auto& s : old_config.sockets)
    if (!new_config.find_socket(s.name)) d.sockets_removed.push_back(s.name);

  for (const auto& app : new_config.apps) {
    const config::AppConfig* was = old_config.find_app(app.name);
    if (!was) {
      d.apps_added.push_back(app.name);
      continue;
    }
    bool socket_moved = std::any_of(app.sockets.begin(), app.sockets.end(), [&](auto& name) {
      return std::find(d.sockets_rebound.begin(), d.sockets_rebound.end(), name) !=
             d.sockets_rebound.end();
    });
    if (worker_facing_change(*was, app) || socket_moved)
      d.apps_reloaded.push_back(app.name);
    else if (!(*was == app))
      d.apps_updated.push_back(app.name);
  }
  for (const auto& app : old_config.apps)
    if (!new_config.find_app(app.name)) d.apps_removed.push_back(app.name);

  const auto& a = old_config.daemon;
  const auto& b = new_config.daemon;
  if (a.control_socket != b.control_socket || a.control_mode != b.control_mode ||
      a.control_group != b.control_group)
    d.warnings.push_back("control socket settings change only when musterd restarts");
  auto metrics_address = [](const config::DaemonConfig& c) {
    return c.metrics ? c.metrics->listen : std::string();
  };
  if (metrics_address(a) != metrics_address(b))
    d.warnings.push_back("metrics_listen changes only when musterd restarts");
  return d;
}

}  // namespace muster::daemon
