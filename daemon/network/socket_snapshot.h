// A socket musterd holds, as `status` lists it (daemon/observe/snapshot.h): declared,
// per slot (reuseport) or bound on demand for a Node app's workers.
#pragma once

#include <string>

namespace muster::daemon {

struct SocketSnapshot {
  std::string name;
  std::string listen;    // as configured (or asked for, on demand)
  std::string bound;     // what getsockname says
  std::string protocol;  // tcp, unix, udp
  bool on_demand = false;
  std::string app;  // on demand: the app whose workers asked for it; else ""
};

}  // namespace muster::daemon
