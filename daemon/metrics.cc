#include "daemon/metrics.h"

#include <unistd.h>

#include <string>

#include "daemon/accept_pause.h"
#include "daemon/event_loop.h"
#include "daemon/proc_stats.h"
#include "daemon/supervisor.h"

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

void daemon_metrics(Supervisor& s, std::vector<MetricFamily>& out) {
  out.push_back(family("muster_build_info", "gauge",
                       "Always 1; the version label is musterd's version.")
                    .add({{"version", MUSTER_VERSION}}, 1));
  out.push_back(family("process_resident_memory_bytes", "gauge",
                       "musterd's own resident set size in bytes.")
                    .add({}, static_cast<double>(resident_bytes(::getpid()))));
  out.push_back(family("process_cpu_seconds_total", "counter",
                       "musterd's own user and system CPU time in seconds.")
                    .add({}, cpu_seconds(::getpid())));
  out.push_back(family("process_open_fds", "gauge", "File descriptors musterd has open.")
                    .add({}, static_cast<double>(own_open_fds())));
  out.push_back(family("process_start_time_seconds", "gauge",
                       "When musterd started, in seconds since the Unix epoch.")
                    .add({}, own_start_time()));
  auto pauses = family("muster_accept_pauses_total", "counter",
                       "Times an accept loop paused because accept() kept failing (out of "
                       "file descriptors or kernel memory), by listener; one per episode.");
  auto shed = family("muster_accept_shed_total", "counter",
                     "Waiting clients closed at once, with the reserve descriptor, while "
                     "musterd was out of file descriptors, by listener.");
  for (Listener kind : {Listener::control, Listener::metrics, Listener::rr}) {
    pauses.add({{"listener", to_string(kind)}},
               static_cast<double>(accept_pause_counts(kind).pauses));
    shed.add({{"listener", to_string(kind)}}, static_cast<double>(accept_pause_counts(kind).shed));
  }
  out.push_back(std::move(pauses));
  out.push_back(std::move(shed));
  out.push_back(family("muster_loop_exceptions_total", "counter",
                       "Errors (exceptions) that reached musterd's event loop; it kept running.")
                    .add({}, static_cast<double>(loop_exceptions())));
  out.push_back(family("muster_events_dropped_total", "counter",
                       "Events that could not be recorded (out of memory) and were dropped.")
                    .add({}, static_cast<double>(s.events().dropped())));
  const auto& reloads = s.config_reloads();
  out.push_back(family("muster_config_reloads_total", "counter",
                       "Config reloads (reload-config, SIGHUP) by result.")
                    .add({{"result", "applied"}}, static_cast<double>(reloads.applied))
                    .add({{"result", "rejected"}}, static_cast<double>(reloads.rejected))
                    .add({{"result", "failed"}}, static_cast<double>(reloads.failed)));
  out.push_back(family("muster_config_last_reload_successful", "gauge",
                       "1 if the last config reload was applied (or none was tried), "
                       "0 if it was rejected.")
                    .add({}, reloads.last_ok ? 1 : 0));
}

void app_metrics(Supervisor& s, std::vector<MetricFamily>& out) {
  auto app_state = family("muster_app_state", "gauge",
                          "1 for the app's current state, 0 for the others.");
  auto instances = family("muster_app_instances", "gauge", "Instance slots the app has.");
  auto workers = family("muster_workers", "gauge", "Live workers by state.");
  auto ready = family("muster_workers_ready", "gauge",
                      "Live workers that count as ready (per the app's `ready`, and not "
                      "stopped).");
  auto stopped = family("muster_workers_stopped", "gauge",
                        "Live workers the kernel reports stopped (SIGSTOP, SIGTSTP or a "
                        "debugger), as of the last sample.");
  auto pending = family("muster_pending_connections", "gauge",
                        "Connections accepted by musterd (rr) and not yet handed to a worker.");
  auto connections = family("muster_connections_total", "counter",
                            "Connections handed to the app's workers (rr), all lives.");
  auto restarts = family("muster_restarts_total", "counter",
                         "Slots refilled after a crash (the backoff applied).");
  auto crashes = family("muster_crashes_total", "counter",
                        "Worker exits neither asked for nor clean (includes failed spawns "
                        "and workers killed for misbehaving).");
  auto exits = family("muster_worker_exits_total", "counter", "Worker exits of every kind.");
  auto reloads = family("muster_reloads_total", "counter",
                        "Rolling reloads of the app by result.");
  auto memory = family("muster_memory_replacements_total", "counter",
                       "Workers replaced for exceeding max_memory.");
  auto failures = family("muster_app_failures_total", "counter",
                         "Times the app was marked failed (every slot in a crash loop).");
  auto output_errors = family("muster_output_errors_total", "counter",
                              "Worker output lines that could not be written to output_file "
                              "or the journal (each went to musterd's log instead).");
  auto w_connections = family("muster_worker_connections_total", "counter",
                              "Connections handed to this worker (rr).");
  auto w_rss = family("muster_worker_resident_memory_bytes", "gauge",
                      "The worker process's resident set size in bytes.");
  auto w_cpu = family("muster_worker_cpu_seconds_total", "counter",
                      "The worker process's user and system CPU time in seconds.");
  auto w_uptime = family("muster_worker_uptime_seconds", "gauge",
                         "Seconds since the worker was spawned.");

  for (auto& app_ptr : s.apps()) {
    App& app = *app_ptr;
    if (app.removed()) continue;
    const std::string& name = app.name();
    for (AppState st : kAppStates)
      app_state.add({{"app", name}, {"state", to_string(st)}}, app.state() == st ? 1 : 0);
    instances.add({{"app", name}}, app.config().instances);
    const auto& c = app.counters();
    double handed = static_cast<double>(c.exited_connections);
    std::size_t by_state[std::size(kWorkerStates)] = {};
    std::size_t n_ready = 0, n_stopped = 0;
    for (Worker* w : app.workers()) {
      for (std::size_t i = 0; i < std::size(kWorkerStates); ++i)
        if (w->state() == kWorkerStates[i]) ++by_state[i];
      if (w->ready_now()) ++n_ready;
      if (w->stopped()) ++n_stopped;
      handed += static_cast<double>(w->connections());
      Labels who{{"app", name},
                 {"worker", std::to_string(w->identity().id)},
                 {"slot", std::to_string(w->identity().instance)}};
      w_connections.add(who, static_cast<double>(w->connections()));
      w_rss.add(who, static_cast<double>(w->usage().rss_bytes));  // the samples status shows
      w_cpu.add(who, w->usage().cpu_seconds);
      w_uptime.add(who, std::chrono::duration<double>(w->uptime()).count());
    }
    for (std::size_t i = 0; i < std::size(kWorkerStates); ++i)
      workers.add({{"app", name}, {"state", to_string(kWorkerStates[i])}},
                  static_cast<double>(by_state[i]));
    ready.add({{"app", name}}, static_cast<double>(n_ready));
    stopped.add({{"app", name}}, static_cast<double>(n_stopped));
    pending.add({{"app", name}}, static_cast<double>(app.pending()));
    connections.add({{"app", name}}, handed);
    restarts.add({{"app", name}}, static_cast<double>(c.restarts));
    crashes.add({{"app", name}}, static_cast<double>(c.crashes));
    exits.add({{"app", name}}, static_cast<double>(c.exits));
    reloads.add({{"app", name}, {"result", "done"}}, static_cast<double>(c.reloads_done));
    reloads.add({{"app", name}, {"result", "failed"}}, static_cast<double>(c.reloads_failed));
    memory.add({{"app", name}}, static_cast<double>(c.memory_replacements));
    failures.add({{"app", name}}, static_cast<double>(c.failures));
    output_errors.add({{"app", name}}, static_cast<double>(app.output().file_errors()));
  }
  for (auto* f : {&app_state, &instances, &workers, &ready, &stopped, &pending, &connections,
                  &restarts, &crashes, &exits, &reloads, &memory, &failures, &output_errors,
                  &w_connections, &w_rss, &w_cpu, &w_uptime})
    out.push_back(std::move(*f));
}

// Node apps: what their workers had musterd bind on demand (daemon/on_demand.h),
// and with relay = true their messages relayed and dropped (daemon/relay.h).
void node_metrics(Supervisor& s, std::vector<MetricFamily>& out) {
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
  for (auto& app : s.apps()) {
    if (app->removed() || app->config().protocol != config::Protocol::node) continue;
    const std::string& name = app->name();
    held.add({{"app", name}}, static_cast<double>(s.on_demand().count(name)));
    for (auto reason : OnDemandSockets::kRefusals)
      refused.add({{"app", name}, {"reason", to_string(reason)}},
                  static_cast<double>(s.on_demand().refused(name, reason)));
    if (!app->config().relay) continue;
    relayed.add({{"app", name}}, static_cast<double>(app->relay().relayed()));
    dropped.add({{"app", name}}, static_cast<double>(app->relay().dropped()));
  }
  for (auto* f : {&held, &refused, &relayed, &dropped}) out.push_back(std::move(*f));
}

}  // namespace

std::vector<MetricFamily> collect_metrics(Supervisor& supervisor) {
  std::vector<MetricFamily> out;
  daemon_metrics(supervisor, out);
  app_metrics(supervisor, out);
  node_metrics(supervisor, out);
  return out;
}

}  // namespace muster::daemon
