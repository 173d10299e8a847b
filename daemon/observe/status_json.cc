#include "daemon/observe/status_json.h"

#include <cmath>

namespace muster::daemon {
namespace {

boost::json::value ms_or_null(const std::optional<Duration>& d) {
  if (!d) return nullptr;
  return d->count();
}

boost::json::object empty_slot_json(const EmptySlotSnapshot& slot) {
  return {{"instance", slot.instance},
          {"last_exit", slot.last_exit.empty() ? boost::json::value(nullptr)
                                               : boost::json::value(slot.last_exit)},
          {"crash_loop", slot.crash_loop},
          {"next_try_ms", ms_or_null(slot.next_try_in)}};
}

}  // namespace

boost::json::object worker_status_json(const WorkerSnapshot& w) {
  boost::json::object o;
  o["id"] = w.id;
  o["instance"] = w.instance;
  o["pid"] = w.pid;
  o["state"] = to_string(w.state);
  o["uptime_ms"] = w.uptime.count();
  o["restarts"] = w.restarts;
  o["connections"] = w.connections;
  o["rss_bytes"] = w.rss_bytes;  // sampled (App::kUsageInterval)
  // 100 = one core, over the last sampling interval; null until two samples.
  if (w.cpu_percent)
    o["cpu_percent"] = std::round(*w.cpu_percent * 10) / 10;
  else
    o["cpu_percent"] = nullptr;
  o["ready"] = w.ready_now();
  o["stopped"] = w.stopped;  // as of the last sample, like rss_bytes
  if (!w.status_text.empty()) o["status"] = w.status_text;
  if (!w.inspector.empty()) o["inspector"] = w.inspector;
  return o;
}

boost::json::object app_status_json(const AppSnapshot& a) {
  boost::json::array workers;
  for (const auto& w : a.workers) workers.push_back(worker_status_json(w));
  boost::json::array empty_slots;
  // A stopped app's slots are empty on purpose.
  if (a.state != AppState::stopped)
    for (const auto& slot : a.empty_slots) empty_slots.push_back(empty_slot_json(slot));
  boost::json::object app;
  app["name"] = a.name;
  app["state"] = a.waiting_for.empty() ? to_string(a.state) : "waiting";
  if (!a.waiting_for.empty()) {
    boost::json::array names;
    for (const auto& name : a.waiting_for) names.emplace_back(name);
    app["waiting_for"] = std::move(names);
  }
  app["protocol"] = config::to_string(a.protocol);
  app["scheduling"] =
      a.protocol == config::Protocol::none ? "none" : config::to_string(a.scheduling);
  app["instances"] = a.instances;
  app["ready"] = a.ready_workers();
  app["restarts"] = a.counters.restarts;
  app["pending"] = a.pending;
  if (a.relay) app["relay"] = {{"relayed", a.relay->relayed}, {"dropped", a.relay->dropped}};
  if (a.affinity != config::Affinity::none) app["affinity"] = config::to_string(a.affinity);
  app["workers"] = std::move(workers);
  app["empty_slots"] = std::move(empty_slots);
  if (a.state == AppState::failed) app["retry_in_ms"] = ms_or_null(a.retry_in);
  if (a.config_instances) app["config_instances"] = *a.config_instances;
  return app;
}

boost::json::object socket_status_json(const SocketSnapshot& s) {
  boost::json::object o{
      {"name", s.name}, {"listen", s.listen}, {"bound", s.bound}, {"protocol", s.protocol}};
  if (s.on_demand) o["on_demand"] = true;
  if (!s.app.empty()) o["app"] = s.app;
  return o;
}

boost::json::object status_reply_fields(const DaemonSnapshot& snapshot, const AppSnapshot* only) {
  std::vector<const AppSnapshot*> apps;
  if (only) {
    apps.push_back(only);
  } else {
    for (const auto& app : snapshot.apps) apps.push_back(&app);
  }
  return status_reply_fields(snapshot, apps);
}

boost::json::object status_reply_fields(const DaemonSnapshot& snapshot,
                                        const std::vector<const AppSnapshot*>& only) {
  boost::json::array apps;
  for (const AppSnapshot* app : only) apps.push_back(app_status_json(*app));
  boost::json::array sockets;
  for (const auto& s : snapshot.sockets) sockets.push_back(socket_status_json(s));
  return {{"apps", std::move(apps)}, {"sockets", std::move(sockets)}};
}

}  // namespace muster::daemon
