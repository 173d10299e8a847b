// `musterctl check [FILE]`: validates a config file offline, without a daemon.
#pragma once

#include <string>

namespace muster::cli {

struct CheckOptions {
  bool json = false;        // the outcome as one JSON document on stdout
  std::string environment;  // --environment ("" = not given)
  bool print = false;       // the effective config on stdout
};

// Loads `path` with the config module. Prints "PATH: ok (N apps)" and returns
// kExitOk, or prints every error to stderr and returns kExitUsage. With
// `json` the outcome is one JSON document on stdout instead, shaped like a
// reply. With `print` (and no json) stdout gets the effective config as TOML
// and the verdict goes to stderr.
int run_check(const std::string& path, const CheckOptions& options);

}  // namespace muster::cli
