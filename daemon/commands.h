// Control verbs: each is a small handler registered by name (the table in
// commands.cc), working on the Supervisor and answering through `respond`.
#pragma once

#include "daemon/control_server.h"
#include "ipc/control_protocol.h"

namespace muster::daemon {

class Supervisor;

void run_command(Supervisor& supervisor, const ipc::Request& request,
                 ControlServer::Respond respond);

}  // namespace muster::daemon
