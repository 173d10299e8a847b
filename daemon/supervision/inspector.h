// inspect = "HOST:PORT" (config::inspector_address): how a worker gets Node's
// --inspect. Node takes it on its command line before the script, or in
// NODE_OPTIONS, which also reaches a node started by a wrapper script or a
// "#!/usr/bin/env node" script (Node allows --inspect there: doc/api/cli.md).
#pragma once

#include <string>
#include <string_view>

#include "daemon/launch/spawn.h"

namespace muster::daemon {

// Whether `executable` (a resolved path) is Node itself: named node or nodejs.
bool runs_node_directly(std::string_view executable);

// --inspect=ADDRESS for the worker `spec` starts: its first argument when the
// executable is Node itself (as Node's cluster puts it in a fork's execArgv,
// and not inherited by processes the worker starts), else appended to the
// NODE_OPTIONS its environment already has (or a new one).
void add_inspector(SpawnSpec& spec, const std::string& address);

}  // namespace muster::daemon
