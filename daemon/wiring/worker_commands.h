// The control verbs that act on one worker by its id: restart ID, kill,
// disconnect. Handlers for the table in commands.cc.
#pragma once

#include "daemon/control/control_server.h"
#include "ipc/control_protocol.h"

namespace muster::daemon {

class Supervisor;
class Worker;

namespace worker_commands {

using Respond = ControlServer::Respond;

// A live worker by the request's id, or the error answered and null.
Worker* worker_or_error(Supervisor& s, const ipc::Request& r, const Respond& respond);

// restart with an id: that worker's slot gets a new worker, and the old one
// leaves once the new one is ready (App::replace, as in a reload). Answered
// then, naming the new worker, or with why the new one did not get ready (the
// old one keeps serving).
void restart_worker(Supervisor& s, const ipc::Request& r, Respond respond);
void kill(Supervisor& s, const ipc::Request& r, Respond respond);
void disconnect(Supervisor& s, const ipc::Request& r, Respond respond);

}  // namespace worker_commands
}  // namespace muster::daemon
