// The daemon's log: spdlog to stderr (journald or the container runtime picks
// it up), as text or as one JSON object per line.
#pragma once

#include "config/config.h"

namespace muster::daemon {

void setup_logging(config::LogLevel level, config::LogFormat format);

}  // namespace muster::daemon
