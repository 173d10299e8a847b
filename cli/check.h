// `musterctl check [FILE]`: validates a config file offline, without a daemon.
#pragma once

#include <string>

namespace muster::cli {

// Loads `path` with the config module. Prints "PATH: ok (N apps)" and returns
// kExitOk, or prints every error to stderr and returns kExitUsage. With `json`
// the outcome is one JSON document on stdout instead, shaped like a reply.
int run_check(const std::string& path, bool json);

}  // namespace muster::cli
