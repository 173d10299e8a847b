#include "daemon/observe/app_settings.h"

namespace muster::daemon {
namespace {

namespace json = boost::json;

json::value list(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& item : items) out.emplace_back(item);
  return out;
}

json::value duration(config::Duration d) { return json::value(config::format_duration(d)); }

// "10MiB" when it is a whole number of MiB, else bytes ("512B"): both read back.
json::value size(std::uint64_t bytes) {
  if (bytes != 0 && bytes % (1024 * 1024) == 0)
    return json::value(std::to_string(bytes >> 20) + "MiB");
  if (bytes != 0 && bytes % 1024 == 0) return json::value(std::to_string(bytes >> 10) + "KiB");
  return json::value(std::to_string(bytes) + "B");
}

// What the worker is started as, and how connections reach it.
void command_settings(const config::AppConfig& a, std::vector<Setting>& out) {
  out.emplace_back("exec", json::value(a.exec));
  out.emplace_back("args", list(a.args));
  out.emplace_back("cwd", json::value(a.cwd));
  out.emplace_back("env_inherit", list(a.env_inherit));
  out.emplace_back("instances", a.instances);
  out.emplace_back("protocol", config::to_string(a.protocol));
  out.emplace_back("sockets", list(a.sockets));
  out.emplace_back("scheduling", config::to_string(a.scheduling));
  out.emplace_back("max_pending", a.max_pending);
  out.emplace_back("pending_timeout", duration(a.pending_timeout));
  out.emplace_back("affinity", config::to_string(a.affinity));
  out.emplace_back("relay", a.relay);
  out.emplace_back("serialization", config::to_string(a.serialization));
  out.emplace_back("inspect", json::value(a.inspect ? a.inspect->listen : ""));
  out.emplace_back("ready", config::to_string(a.ready));
  out.emplace_back("ready_timeout", duration(a.ready_timeout));
  out.emplace_back("watchdog", duration(a.watchdog));
  out.emplace_back("user", json::value(a.user));
  out.emplace_back("group", json::value(a.group));
  out.emplace_back("output", config::to_string(a.output));
  out.emplace_back("output_file", json::value(a.output_file));
}

// Restarts, stops, reloads and limits.
void policy_settings(const config::AppConfig& a, std::vector<Setting>& out) {
  out.emplace_back("restart", config::to_string(a.restart));
  out.emplace_back("restart_delay", duration(a.restart_delay));
  out.emplace_back("restart_delay_max", duration(a.restart_delay_max));
  out.emplace_back("min_uptime", duration(a.min_uptime));
  out.emplace_back("max_restarts", a.max_restarts);
  out.emplace_back("restart_window", duration(a.restart_window));
  out.emplace_back("failed_retry", duration(a.failed_retry));
  out.emplace_back("stop_signal", json::value(config::signal_name(a.stop_signal)));
  out.emplace_back("stop_timeout", duration(a.stop_timeout));
  out.emplace_back("drain_timeout", duration(a.drain_timeout));
  out.emplace_back("on_demand", a.on_demand);
  out.emplace_back("max_on_demand_sockets", a.max_on_demand_sockets);
  out.emplace_back("on_demand_grace", duration(a.on_demand_grace));
  out.emplace_back("reload_surge", a.reload_surge);
  out.emplace_back("max_memory", a.max_memory == 0 ? json::value("") : size(a.max_memory));
  out.emplace_back("output_max_size", size(a.output_max_size));
  out.emplace_back("output_keep", a.output_keep);
}

// When it starts, and what makes it reload (development).
void order_and_watch_settings(const config::AppConfig& a, std::vector<Setting>& out) {
  out.emplace_back("autostart", a.autostart);
  out.emplace_back("after", list(a.after));
  out.emplace_back("watch", list(a.watch));
  out.emplace_back("watch_ignore", list(a.watch_ignore));
  out.emplace_back("watch_delay", duration(a.watch_delay));
}

}  // namespace

std::vector<Setting> app_settings(const config::AppConfig& app) {
  std::vector<Setting> out;
  command_settings(app, out);
  policy_settings(app, out);
  order_and_watch_settings(app, out);
  return out;
}

}  // namespace muster::daemon
