// Applying a new config to a running daemon (reload-config, SIGHUP): what
// changed between two validated configs, as pure data, so the plan can be
// tested and logged before anything is touched.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace muster::daemon {

struct ConfigDiff {
  std::vector<std::string> apps_added, apps_removed;
  std::vector<std::string> apps_reloaded;  // worker-facing settings changed: rolling reload
  std::vector<std::string> apps_updated;   // only policy settings changed: applied in place
  std::vector<std::string> sockets_added, sockets_removed, sockets_rebound;
  std::vector<std::string> warnings;  // changes that need a daemon restart

  bool empty() const;
};

// Settings a running worker was started with (changing them needs new workers).
bool worker_facing_change(const config::AppConfig& a, const config::AppConfig& b);
ConfigDiff diff_configs(const config::Config& old_config, const config::Config& new_config);

}  // namespace muster::daemon
