// The control verbs that start and stop apps (start, stop, restart), in the
// order `after` gives (daemon/supervision/start_order.h), on the apps a name
// stands for (named_apps.h). Handlers for the table in commands.cc.
#pragma once

#include "daemon/control/control_server.h"
#include "daemon/supervision/app.h"
#include "ipc/control_protocol.h"

namespace muster::daemon {

class Supervisor;

namespace app_commands {

using Respond = ControlServer::Respond;

// Each app once the apps it starts after have a ready worker; refused for
// an app one of which is stopped or failed (StartOrder::blocked).
void start(Supervisor& s, const ipc::Request& r, Respond respond);
// Dependents first, each layer stopped before the next (StartOrder::stop).
void stop(Supervisor& s, const ipc::Request& r, Respond respond);
// stop, then start, in those orders.
void restart(Supervisor& s, const ipc::Request& r, Respond respond);

}  // namespace app_commands
}  // namespace muster::daemon
