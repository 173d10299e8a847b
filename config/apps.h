// Internal to config/: the [apps.NAME] tables.
#pragma once

#include <filesystem>
#include <vector>

#include "config/section.h"

namespace muster::config::detail {

// What the apps are read against, besides their own tables.
struct AppContext {
  std::filesystem::path dir;                 // the config file's directory
  const std::vector<SocketConfig>& sockets;  // every declared socket, even bad ones
  Scheduling scheduling;                     // for apps that do not set one
                                             // (systemd ones take none instead)
};

// Reads the value of the top-level `apps` key into `out`, in file order.
void read_apps(const toml::node& apps, const AppContext& context, ErrorList& errors,
               std::vector<AppConfig>& out);

// Records where each key of an app's table is (config/origins.cc): its
// top-level keys, and each variable of its `env` as "env.NAME".
void record_origins(const toml::table& app_table, KeyOrigins& out);

// relay and affinity (config/cluster_options.cc), once protocol and
// scheduling are read.
void read_cluster_options(Section& s, AppConfig& app, bool protocol_ok);

// watch, watch_ignore and watch_delay (config/watch.cc).
void read_watch(Section& s, AppConfig& app);

// inspect (config/inspect.cc), once protocol and instances are read.
void read_inspect(Section& s, AppConfig& app, bool protocol_ok);
// Each app's inspect range against declared sockets, metrics_listen and the
// inspect ranges of the apps before it; an error at the app's inspect.
void check_inspect_ranges(const toml::table& root, const Config& config, ErrorList& errors);

// after (config/start_order.cc): each entry names another app of the file,
// once, and no apps wait for each other in a cycle; errors at the entry.
void check_after(const toml::table& root, const Config& config, ErrorList& errors);

// The scheduling of apps that do not set one, from the daemon's environment:
// MUSTER_SCHED_POLICY, else NODE_CLUSTER_SCHED_POLICY, else rr.
Scheduling default_scheduling(ErrorList& errors);

}  // namespace muster::config::detail
