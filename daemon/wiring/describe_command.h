// `musterctl describe APP`: everything about one app in one reply
// (daemon/observe/describe_json.h renders it). A handler for the table in
// commands.cc.
#pragma once

#include "daemon/control/control_server.h"
#include "ipc/control_protocol.h"

namespace muster::daemon {

class Supervisor;

// Reads the app's snapshot and the settings in force; secret-looking
// environment values stay in musterd unless the request says show_env.
void describe_app(Supervisor& s, const ipc::Request& r, ControlServer::Respond respond);

}  // namespace muster::daemon
