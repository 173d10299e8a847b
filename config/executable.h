// How an app's `exec` is found: one rule for musterd starting a worker and
// for the config check that runs before any worker exists.
#pragma once

#include <string>
#include <variant>

#include "config/config.h"

namespace muster::config {

// The PATH a worker of `app` gets: the app's env PATH, else musterd's, else
// "/usr/local/bin:/usr/bin:/bin".
std::string worker_path(const AppConfig& app);

// Finds `exec` the way a shell would (absolute, relative to cwd if it contains a
// '/', else along `path`); returns the full path (index 0) or an error message
// if there is no such executable file (index 1).
std::variant<std::string, std::string> resolve_executable(const std::string& exec,
                                                          const std::string& cwd,
                                                          const std::string& path);

}  // namespace muster::config
