// Control verbs: each is a small handler registered by name (the table in
// commands.cc), working on the Supervisor and answering through `respond`.
#pragma once

#include <string>
#include <vector>

#include "daemon/control/control_server.h"
#include "ipc/control_protocol.h"

namespace muster::daemon {

class Supervisor;

// The verbs with a handler: those ipc/verbs.h declares, checked by
// tests/unit/verbs_test.cc.
std::vector<std::string> handled_verbs();

void run_command(Supervisor& supervisor, const ipc::Request& request,
                 ControlServer::Respond respond);

}  // namespace muster::daemon
