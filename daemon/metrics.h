// What /metrics reports: every figure the daemon has about itself, its apps
// and their workers, as Prometheus metric families. docs/metrics.md lists and
// explains each one; keep the two in step.
#pragma once

#include <vector>

#include "daemon/metrics_text.h"

namespace muster::daemon {

class Supervisor;

std::vector<MetricFamily> collect_metrics(Supervisor& supervisor);

}  // namespace muster::daemon
