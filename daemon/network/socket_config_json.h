// A socket's settings as JSON and back: an in-place upgrade (issue 25)
// carries the sockets musterd bound on demand for Node workers, whose
// settings came from a worker's listen(), not from the config file the new
// musterd reads again.
#pragma once

#include <boost/json/value.hpp>

#include "base/result.h"
#include "config/config.h"

namespace muster::daemon {

boost::json::value socket_config_to_json(const config::SocketConfig& socket);
// The error names the field that is missing or of the wrong type.
Result<config::SocketConfig> socket_config_from_json(const boost::json::value& v);

}  // namespace muster::daemon
