// The daemon's log: spdlog to stderr (journald or the container runtime picks
// it up), as text or as one JSON object per line. When stderr is the journal
// (daemon/output/journal.h), each line starts with its sd-daemon priority ("<4>") and
// a text line carries no timestamp (journald stamps it).
#pragma once

#include "config/config.h"

namespace muster::daemon {

void setup_logging(config::LogLevel level, config::LogFormat format);

}  // namespace muster::daemon
