// How an app's `exec` is found, and what of musterd's environment its workers
// get: one rule for musterd starting a worker and for the config check that
// runs before any worker exists.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace muster::config {

// The PATH a worker of `app` gets: the app's env PATH, else musterd's, else
// "/usr/local/bin:/usr/bin:/bin".
std::string worker_path(const AppConfig& app);

// Whether musterd sets `name` itself for workers that need it (MUSTER_*, the
// Node channel's and systemd's variables): never inherited by env_inherit, as
// musterd's own values (e.g. its systemd LISTEN_FDS) would mislead a worker.
bool set_by_muster(std::string_view name);

// The "NAME=value" entries of `environ` (musterd's environment, as in
// environ(7)) that a worker of `app` inherits by its env_inherit: the names
// listed, or all for "*"; never PATH (see worker_path), a name the app's `env`
// sets (it wins) or one set_by_muster.
std::vector<std::string> inherited_environment(const AppConfig& app, char* const* environ);

// Finds `exec` the way a shell would (absolute, relative to cwd if it contains a
// '/', else along `path`); returns the full path, or the error if there is no
// such executable file.
Result<std::string> resolve_executable(const std::string& exec, const std::string& cwd,
                                       const std::string& path);

}  // namespace muster::config
