// /healthz and /readyz on metrics_listen: what a Kubernetes liveness and
// readiness probe (or a load balancer's health check) asks of musterd.
//  - healthz: 200 "ok" whenever the event loop answers at all (it is served
//    on the loop: a stuck loop fails the probe by not answering).
//  - readyz: 200 only when musterd is not shutting down, no app is `failed`,
//    and every app that should run (not stopped by an operator, with at
//    least one instance) has at least one ready worker; else 503 with one
//    line per app that is not ready. `app=NAME` asks about one app (404 if
//    there is none).
#pragma once

#include <functional>
#include <string_view>

#include "daemon/observe/metrics_server.h"

namespace muster::daemon {

struct DaemonSnapshot;

// The whole metrics_listen route: /metrics, /healthz, /readyz, else 404.
// Each request renders one snapshot of the daemon, taken by `snapshot`
// (Supervisor::snapshot).
MetricsServer::Reply route_http(const std::function<DaemonSnapshot()>& snapshot,
                                std::string_view path, std::string_view query);
// /readyz?QUERY for a snapshot (pure).
MetricsServer::Reply readyz(const DaemonSnapshot& snapshot, std::string_view query);

}  // namespace muster::daemon
