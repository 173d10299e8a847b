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

// relay and affinity (config/cluster_options.cc), once protocol and
// scheduling are read.
void read_cluster_options(Section& s, AppConfig& app, bool protocol_ok);

// The scheduling of apps that do not set one, from the daemon's environment:
// MUSTER_SCHED_POLICY, else NODE_CLUSTER_SCHED_POLICY, else rr.
Scheduling default_scheduling(ErrorList& errors);

}  // namespace muster::config::detail
