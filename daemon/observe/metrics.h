// What /metrics reports: every figure the daemon has about itself, its apps
// and their workers, as Prometheus metric families. docs/metrics.md lists and
// explains each one; keep the two in step.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "daemon/network/accept_pause.h"
#include "daemon/observe/metrics_text.h"
#include "daemon/observe/snapshot.h"

namespace muster::daemon {

// musterd's own process, which only /metrics shows: read (from /proc) per
// scrape, so that `status` reads none of it.
struct ProcessSnapshot {
  std::uint64_t resident_bytes = 0;
  double cpu_seconds = 0;
  std::uint64_t open_fds = 0;
  double start_time = 0;  // seconds since the epoch
  static constexpr Listener kListeners[] = {Listener::control, Listener::metrics, Listener::rr};
  std::array<AcceptPauseCounts, std::size(kListeners)> accept_pauses{};
  std::uint64_t loop_exceptions = 0;
};
ProcessSnapshot process_snapshot();

// Pure: the families for one snapshot of the daemon and of its process.
std::vector<MetricFamily> collect_metrics(const DaemonSnapshot& daemon,
                                          const ProcessSnapshot& process);

}  // namespace muster::daemon
