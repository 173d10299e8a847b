// Figures read from /proc about a process.
#pragma once

#include <cstdint>
#include <sys/types.h>

namespace muster::daemon {

// Resident set size in bytes (0 if the process is gone or unreadable).
std::uint64_t resident_bytes(pid_t pid);
// User + system CPU time in seconds (0 if gone or unreadable).
double cpu_seconds(pid_t pid);
// Open file descriptors of this process (musterd itself).
std::uint64_t own_open_fds();
// This process's start time, seconds since the epoch (0 if unreadable).
double own_start_time();

}  // namespace muster::daemon
