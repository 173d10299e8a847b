// The `describe` reply (docs/control-protocol.md, "Describe shape"): one
// app's settings with where each came from, the program its next worker
// runs, its environment, sockets, restart policy state, counters, the last
// exits of each slot and where its output goes. Pure: rendered from a
// snapshot and the settings in force, nothing here reads the daemon.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "daemon/observe/snapshot.h"

namespace muster::daemon {

struct DescribeInput {
  const AppSnapshot& app;
  const config::AppConfig& settings;  // in force (App::config())
  const config::KeyOrigins& origins;  // where `settings`' keys are in config_file
  std::string config_file;
  Result<std::string> executable;              // what the next spawn runs, or why it cannot
  std::string path;                            // the PATH `exec` is found along
  std::vector<std::string> inherited;          // "NAME=value", by env_inherit
  const std::vector<SocketSnapshot>& sockets;  // every socket; the app's are picked
  bool show_env = false;                       // secret-looking values too
};

// What a masked value is shown as.
inline constexpr std::string_view kMasked = "********";

// Whether an environment variable's name looks like it holds a secret: it
// contains, in any case, SECRET, PASSWORD, PASSWD, TOKEN, KEY, CREDENTIAL,
// PRIVATE or AUTH, or it ends in _PASS (or is PASS).
bool looks_secret(std::string_view name);

boost::json::object describe_reply_fields(const DescribeInput& in);

}  // namespace muster::daemon
