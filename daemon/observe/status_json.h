// The `status` reply (docs/control-protocol.md, "Status shape"), rendered
// from a snapshot (daemon/observe/snapshot.h). Pure: the same snapshot gives the same
// JSON, and nothing here reads the daemon.
#pragma once

#include <boost/json.hpp>

#include <vector>

#include "daemon/observe/snapshot.h"

namespace muster::daemon {

boost::json::object worker_status_json(const WorkerSnapshot& worker);
boost::json::object app_status_json(const AppSnapshot& app);
boost::json::object socket_status_json(const SocketSnapshot& socket);
// The reply's fields: "apps" (every app, removed ones still stopping too;
// only `only` if given) and "sockets" (every socket).
boost::json::object status_reply_fields(const DaemonSnapshot& snapshot,
                                        const AppSnapshot* only = nullptr);
// Only the apps in `only` (status GROUP), in that order.
boost::json::object status_reply_fields(const DaemonSnapshot& snapshot,
                                        const std::vector<const AppSnapshot*>& only);

}  // namespace muster::daemon
