// Figures read from /proc about a process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace muster::daemon {

// What one read of /proc/PID/stat tells about a process's resource use.
struct ProcUsage {
  std::uint64_t rss_bytes = 0;  // resident set size
  double cpu_seconds = 0;       // user + system CPU time
  // The process state letter (proc(5) field 3): 'R', 'S', 'D', 'Z', 'T'
  // (stopped by a signal: SIGSTOP, SIGTSTP, ...), 't' (stopped by a
  // debugger), ...; 0 before a first read.
  char state = 0;
  bool stopped() const { return state == 'T' || state == 't'; }
};

// Parses the text of /proc/PID/stat (proc(5)); nullopt if it is not one.
std::optional<ProcUsage> parse_proc_stat(std::string_view text, long page_size,
                                         long ticks_per_second);
// One open/read/close of /proc/PID/stat into a stack buffer (no allocation):
// cheap enough to sample every worker; nullopt if the process is gone.
std::optional<ProcUsage> read_proc_usage(pid_t pid);

// Resident set size in bytes (0 if the process is gone or unreadable).
std::uint64_t resident_bytes(pid_t pid);
// User + system CPU time in seconds (0 if gone or unreadable).
double cpu_seconds(pid_t pid);
// Open file descriptors of this process (musterd itself).
std::uint64_t own_open_fds();
// This process's start time, seconds since the epoch (0 if unreadable).
double own_start_time();

}  // namespace muster::daemon
