// What `status`, /metrics and /readyz read: plain values copied out of the
// Supervisor, its apps and their workers once per request
// (Supervisor::snapshot(), App::snapshot()). Each of those views is a pure
// function of one snapshot (status_json.h, metrics.h, health.h), so they show
// the same figures for the same moment and never hold a mutable daemon.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "daemon/network/on_demand.h"
#include "daemon/network/socket_snapshot.h"
#include "daemon/supervision/app.h"
#include "daemon/supervision/worker.h"

namespace muster::daemon {

struct WorkerSnapshot {
  unsigned id = 0;
  unsigned instance = 0;
  unsigned restarts = 0;  // how often its slot was refilled after a crash
  int pid = 0;
  WorkerState state = WorkerState::spawning;
  Duration uptime{0};
  std::uint64_t connections = 0;  // handed to it (rr)
  // Sampled from /proc every App::kUsageInterval (Worker::usage()).
  std::uint64_t rss_bytes = 0;
  double cpu_seconds = 0;
  std::optional<double> cpu_percent;  // Worker::cpu_percent(): nullopt until two samples
  bool ready = false;                 // per the app's `ready` (Worker::ready())
  bool stopped = false;               // stopped by a signal or a debugger, as of the last sample
  std::string status_text;            // the last STATUS= (systemd protocol); "" if none
  std::string inspector;              // inspect: its Node inspector's "HOST:PORT"; "" if none

  // What /readyz, `status` and muster_workers_ready count as ready.
  bool ready_now() const { return ready && !stopped; }
};

// A slot without a worker. A stopped app's are listed too; `status` leaves
// them out.
struct EmptySlotSnapshot {
  unsigned instance = 0;
  std::string last_exit;  // "exited with code 3"...; "" if it never ran
  bool crash_loop = false;
  std::optional<Duration> next_try_in;  // nullopt: it is not tried again
};

// Every slot's restart policy state and its last exits (describe).
struct SlotSnapshot {
  unsigned instance = 0;
  unsigned restarts = 0;     // refills after a crash (reset by `musterctl reset`)
  unsigned consecutive = 0;  // crashes or short lives in a row: the backoff's step
  bool crash_loop = false;
  std::vector<ExitRecord> exits;  // oldest first, at most ExitHistory::kKept
};

// A node-protocol app's sockets bound on demand (daemon/network/on_demand.h).
struct OnDemandSnapshot {
  std::size_t sockets = 0;  // held or being bound
  // Refusals by reason, in OnDemandSockets::kRefusals order.
  std::array<std::uint64_t, std::size(OnDemandSockets::kRefusals)> refused{};
};

// relay = true (daemon/supervision/relay.h): messages delivered to other workers, one per
// receiver, and those dropped for a receiver too far behind.
struct RelaySnapshot {
  std::uint64_t relayed = 0;
  std::uint64_t dropped = 0;
};

struct AppSnapshot {
  std::string name;
  AppState state = AppState::stopped;
  bool wanted_up = false;  // running or reloading
  bool removed = false;    // gone from the config, its workers still stopping
  config::Protocol protocol = config::Protocol::none;
  config::Scheduling scheduling = config::Scheduling::rr;
  unsigned instances = 0;                    // slots now (a runtime scale changes it)
  std::optional<unsigned> config_instances;  // the config file's count; nullopt if removed
  // Live workers: slot order, then replacements not yet ready, then leaving ones.
  std::vector<WorkerSnapshot> workers;
  std::vector<EmptySlotSnapshot> empty_slots;
  std::vector<SlotSnapshot> slots;   // index = instance
  std::optional<Duration> retry_in;  // failed: until failed_retry starts it again
  App::Counters counters;
  // Its workers that count as ready (WorkerSnapshot::ready_now): what status's
  // `ready`, /readyz and muster_workers_ready all count.
  std::size_t ready_workers() const {
    return static_cast<std::size_t>(std::count_if(
        workers.begin(), workers.end(), [](const WorkerSnapshot& w) { return w.ready_now(); }));
  }
  std::size_t pending = 0;  // connections held for its round-robin sockets
  std::uint64_t output_errors = 0;
  std::optional<OnDemandSnapshot> on_demand;  // node-protocol apps only
  std::optional<RelaySnapshot> relay;         // relay = true only
  config::Affinity affinity = config::Affinity::none;
  // `after`: started, and waiting for these apps to have a ready worker
  // (status shows the state "waiting"); empty when not waiting.
  std::vector<std::string> waiting_for;
};

struct ConfigReloadCounts {
  std::uint64_t applied = 0;
  std::uint64_t rejected = 0;
  std::uint64_t failed = 0;  // applied, but an app's rolling reload failed
  bool last_ok = true;
};

struct DaemonSnapshot {
  std::vector<AppSnapshot> apps;  // config order, removed ones still stopping too
  // The socket table's, then those bound on demand.
  std::vector<SocketSnapshot> sockets;
  bool shutting_down = false;
  ConfigReloadCounts config_reloads;
  std::uint64_t events_dropped = 0;

  // The app of that name, as Supervisor::find_app finds it (not a removed one).
  const AppSnapshot* find_app(std::string_view name) const {
    for (const auto& app : apps)
      if (app.name == name && !app.removed) return &app;
    return nullptr;
  }
};

}  // namespace muster::daemon
