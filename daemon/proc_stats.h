// Figures read from /proc about a process.
#pragma once

#include <cstdint>
#include <sys/types.h>

namespace muster::daemon {

// Resident set size in bytes (0 if the process is gone or unreadable).
std::uint64_t resident_bytes(pid_t pid);

}  // namespace muster::daemon
