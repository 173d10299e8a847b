#include "daemon/observe/metrics.h"

#include <unistd.h>

#include <string>

#include "base/version.h"
#include "daemon/common/event_loop.h"
#include "daemon/common/proc_stats.h"

namespace muster::daemon {
namespace {

constexpr AppState kAppStates[] = {AppState::running, AppState::stopped, AppState::failed,
                                   AppState::reloading};
// A dead worker is no longer listed by its app, so it has no gauge.
constexpr WorkerState kWorkerStates[] = {WorkerState::spawning, WorkerState::online,
                                         WorkerState::listening, WorkerState::disconnecting};

MetricFamily family(const char* name, const char* type, const char* help) {
  return MetricFamily{name, help, type, {}};
}

double as_double(std::uint64_t n) { return static_cast<double>(n); }

void process_metrics(const ProcessSnapshot& p, std::vector<MetricFamily>& out) {
  out.push_back(
      family("muster_build_info", "gauge", "Always 1; the version label is musterd's version.")
          .add({{"version", muster::version()}}, 1));
  out.push_back(
      family("process_resident_memory_bytes", "gauge", "musterd's own resident set size in bytes.")
          .add({}, as_double(p.resident_bytes)));
  out.push_back(family("process_cpu_seconds_total", "counter",
                       "musterd's own user and system CPU time in seconds.")
                    .add({}, p.cpu_seconds));
  out.push_back(family("process_open_fds", "gauge", "File descriptors musterd has open.")
                    .add({}, as_double(p.open_fds)));
  out.push_back(family("process_start_time_seconds", "gauge",
                       "When musterd started, in seconds since the Unix epoch.")
                    .add({}, p.start_time));
  auto pauses = family("muster_accept_pauses_total", "counter",
                       "Times an accept loop paused because accept() kept failing (out of "
                       "file descriptors or kernel memory), by listener; one per episode.");
  auto shed = family("muster_accept_shed_total", "counter",
                     "Waiting clients closed at once, with the reserve descriptor, while "
                     "musterd was out of file descriptors, by listener.");
  for (std::size_t i = 0; i < std::size(ProcessSnapshot::kListeners); ++i) {
    const char* kind = to_string(ProcessSnapshot::kListeners[i]);
    pauses.add({{"listener", kind}}, as_double(p.accept_pauses[i].pauses));
    shed.add({{"listener", kind}}, as_double(p.accept_pauses[i].shed));
  }
  out.push_back(std::move(pauses));
  out.push_back(std::move(shed));
  out.push_back(family("muster_loop_exceptions_total", "counter",
                       "Errors (exceptions) that reached musterd's event loop; it kept running.")
                    .add({}, as_double(p.loop_exceptions)));
}

void daemon_metrics(const DaemonSnapshot& s, std::vector<MetricFamily>& out) {
  out.push_back(family("muster_events_dropped_total", "counter",
                       "Events that could not be recorded (out of memory) and were dropped.")
                    .add({}, as_double(s.events_dropped)));
  const auto& reloads = s.config_reloads;
  out.push_back(family("muster_config_reloads_total", "counter",
                       "Config reloads (reload-config, SIGHUP) by result.")
                    .add({{"result", "applied"}}, as_double(reloads.applied))
                    .add({{"result", "rejected"}}, as_double(reloads.rejected))
                    .add({{"result", "failed"}}, as_double(reloads.failed)));
  out.push_back(family("muster_config_last_reload_successful", "gauge",
                       "1 if the last config reload was applied (or none was tried), "
                       "0 if it was rejected.")
                    .add({}, reloads.last_ok ? 1 : 0));
}

// The per-app and per-worker families, in the order /metrics lists them.
struct AppFamilies {
  MetricFamily app_state =
      family("muster_app_state", "gauge", "1 for the app's current state, 0 for the others.");
  MetricFamily instances = family("muster_app_instances", "gauge", "Instance slots the app has.");
  MetricFamily workers = family("muster_workers", "gauge", "Live workers by state.");
  MetricFamily ready = family("muster_workers_ready", "gauge",
                              "Live workers that count as ready (per the app's `ready`, and not "
                              "stopped).");
  MetricFamily stopped = family("muster_workers_stopped", "gauge",
                                "Live workers the kernel reports stopped (SIGSTOP, SIGTSTP or a "
                                "debugger), as of the last sample.");
  MetricFamily pending = family("muster_pending_connections", "gauge",
                                "Connections accepted by musterd (rr) and not yet handed to a "
                                "worker.");
  MetricFamily connections = family("muster_connections_total", "counter",
                                    "Connections handed to the app's workers (rr), all lives.");
  MetricFamily restarts = family("muster_restarts_total", "counter",
                                 "Slots refilled after a crash (the backoff applied).");
  MetricFamily crashes = family("muster_crashes_total", "counter",
                                "Worker exits neither asked for nor clean (includes failed spawns "
                                "and workers killed for misbehaving).");
  MetricFamily exits =
      family("muster_worker_exits_total", "counter", "Worker exits of every kind.");
  MetricFamily reloads =
      family("muster_reloads_total", "counter", "Rolling reloads of the app by result.");
  MetricFamily memory = family("muster_memory_replacements_total", "counter",
                               "Workers replaced for exceeding max_memory.");
  MetricFamily failures = family("muster_app_failures_total", "counter",
                                 "Times the app was marked failed (every slot in a crash loop).");
  MetricFamily output_errors = family("muster_output_errors_total", "counter",
                                      "Worker output lines that could not be written to "
                                      "output_file or the journal (each went to musterd's log "
                                      "instead).");
  MetricFamily w_connections = family("muster_worker_connections_total", "counter",
                                      "Connections handed to this worker (rr).");
  MetricFamily w_rss = family("muster_worker_resident_memory_bytes", "gauge",
                              "The worker process's resident set size in bytes.");
  MetricFamily w_cpu = family("muster_worker_cpu_seconds_total", "counter",
                              "The worker process's user and system CPU time in seconds.");
  MetricFamily w_uptime =
      family("muster_worker_uptime_seconds", "gauge", "Seconds since the worker was spawned.");

  void add(const AppSnapshot& app) {
    const std::string& name = app.name;
    for (AppState st : kAppStates)
      app_state.add({{"app", name}, {"state", to_string(st)}}, app.state == st ? 1 : 0);
    instances.add({{"app", name}}, app.instances);
    add_workers(app);
    const auto& c = app.counters;
    pending.add({{"app", name}}, as_double(app.pending));
    restarts.add({{"app", name}}, as_double(c.restarts));
    crashes.add({{"app", name}}, as_double(c.crashes));
    exits.add({{"app", name}}, as_double(c.exits));
    reloads.add({{"app", name}, {"result", "done"}}, as_double(c.reloads_done));
    reloads.add({{"app", name}, {"result", "failed"}}, as_double(c.reloads_failed));
    memory.add({{"app", name}}, as_double(c.memory_replacements));
    failures.add({{"app", name}}, as_double(c.failures));
    output_errors.add({{"app", name}}, as_double(app.output_errors));
  }

  void add_workers(const AppSnapshot& app) {
    const std::string& name = app.name;
    double handed = as_double(app.counters.exited_connections);
    std::size_t by_state[std::size(kWorkerStates)] = {};
    std::size_t n_stopped = 0;
    for (const WorkerSnapshot& w : app.workers) {
      for (std::size_t i = 0; i < std::size(kWorkerStates); ++i)
        if (w.state == kWorkerStates[i]) ++by_state[i];
      if (w.stopped) ++n_stopped;
      handed += as_double(w.connections);
      Labels who{
          {"app", name}, {"worker", std::to_string(w.id)}, {"slot", std::to_string(w.instance)}};
      w_connections.add(who, as_double(w.connections));
      w_rss.add(who, as_double(w.rss_bytes));  // the samples status shows
      w_cpu.add(who, w.cpu_seconds);
      w_uptime.add(who, std::chrono::duration<double>(w.uptime).count());
    }
    for (std::size_t i = 0; i < std::size(kWorkerStates); ++i)
      workers.add({{"app", name}, {"state", to_string(kWorkerStates[i])}}, as_double(by_state[i]));
    ready.add({{"app", name}}, as_double(app.ready_workers()));
    stopped.add({{"app", name}}, as_double(n_stopped));
    connections.add({{"app", name}}, handed);
  }

  void move_into(std::vector<MetricFamily>& out) {
    for (auto* f : {&app_state, &instances, &workers, &ready, &stopped, &pending, &connections,
                    &restarts, &crashes, &exits, &reloads, &memory, &failures, &output_errors,
                    &w_connections, &w_rss, &w_cpu, &w_uptime})
      out.push_back(std::move(*f));
  }
};

// Node apps: what their workers had musterd bind on demand (daemon/network/on_demand.h),
// and with relay = true their messages relayed and dropped (daemon/supervision/relay.h).
void node_metrics(const DaemonSnapshot& s, std::vector<MetricFamily>& out) {
  auto held = family("muster_on_demand_sockets", "gauge",
                     "Sockets bound on demand for the app's workers (or being bound), "
                     "at most max_on_demand_sockets.");
  auto refused = family("muster_on_demand_refused_total", "counter",
                        "Worker listen()s on undeclared addresses that got no socket, by "
                        "reason: disabled (on_demand = false), limit (max_on_demand_sockets), "
                        "privileged (a port below ip_unprivileged_port_start for a worker not "
                        "running as root), failed (the bind failed).");
  auto relayed = family("muster_relayed_messages_total", "counter",
                        "Worker messages delivered to another worker (relay = true), one "
                        "per receiver.");
  auto dropped = family("muster_relay_dropped_total", "counter",
                        "Relayed messages not delivered: the receiver had over 4 MiB "
                        "unread on its channel.");
  for (const auto& app : s.apps) {
    if (app.removed || !app.on_demand) continue;
    held.add({{"app", app.name}}, as_double(app.on_demand->sockets));
    for (std::size_t i = 0; i < std::size(OnDemandSockets::kRefusals); ++i)
      refused.add({{"app", app.name}, {"reason", to_string(OnDemandSockets::kRefusals[i])}},
                  as_double(app.on_demand->refused[i]));
    if (!app.relay) continue;
    relayed.add({{"app", app.name}}, as_double(app.relay->relayed));
    dropped.add({{"app", app.name}}, as_double(app.relay->dropped));
  }
  for (auto* f : {&held, &refused, &relayed, &dropped}) out.push_back(std::move(*f));
}

}  // namespace

ProcessSnapshot process_snapshot() {
  ProcessSnapshot p;
  p.resident_bytes = resident_bytes(::getpid());
  p.cpu_seconds = cpu_seconds(::getpid());
  p.open_fds = own_open_fds();
  p.start_time = own_start_time();
  for (std::size_t i = 0; i < std::size(ProcessSnapshot::kListeners); ++i)
    p.accept_pauses[i] = accept_pause_counts(ProcessSnapshot::kListeners[i]);
  p.loop_exceptions = loop_exceptions();
  return p;
}

std::vector<MetricFamily> collect_metrics(const DaemonSnapshot& daemon,
                                          const ProcessSnapshot& process) {
  std::vector<MetricFamily> out;
  process_metrics(process, out);
  daemon_metrics(daemon, out);
  AppFamilies apps;
  for (const auto& app : daemon.apps)
    if (!app.removed) apps.add(app);
  apps.move_into(out);
  node_metrics(daemon, out);
  return out;
}

}  // namespace muster::daemon
