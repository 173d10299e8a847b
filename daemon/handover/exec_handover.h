// The exec at the heart of an in-place upgrade (issue 25): musterd becomes
// another binary (the new one, or the old one again when the new one cannot
// restore) under the same pid, so that its workers, whose parent it stays,
// see nothing. What crosses the exec is decided here: the fds named on
// purpose, and nothing else (everything musterd opens is close-on-exec).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "ipc/unique_fd.h"

namespace muster::daemon::handover {

// The running binary, opened O_PATH | O_CLOEXEC through /proc/self/exe. It
// names the inode being run, not the path: after a package upgrade renamed
// a new file over the path, this still executes the old binary
// (execveat(fd, "", ..., AT_EMPTY_PATH)), which is what the fallback needs.
Result<ipc::UniqueFd> open_own_executable();

struct ExecPlan {
  std::string path;               // the binary; also the name errors give
  int exe_fd = -1;                // executed instead of path when >= 0 (an ELF file: a
                                  // script through a close-on-exec fd fails with ENOENT)
  std::vector<std::string> argv;  // argv[0] included
  std::vector<int> keep_fds;      // made inheritable for the exec
};

// Replaces this process's image: clears FD_CLOEXEC on plan.keep_fds and
// executes the binary with the current environment. Returns only if that
// failed: then each kept fd has its descriptor flags back (close-on-exec
// again) and the Error names the binary and carries the errno.
// Call it on the thread that started the workers: exec ends every other
// thread, and a child whose parent thread ends gets its parent-death signal
// (spawn()'s PR_SET_PDEATHSIG SIGKILL) even though the process lives on
// (tried on Linux 6.x: a child cloned by another thread is killed; one
// cloned by the exec'ing thread lives). Signal dispositions set to SIG_IGN
// and the signal mask also cross the exec.
Error exec_replacing(const ExecPlan& plan);

// The guard over the restore: until disarmed, SIGSEGV, SIGBUS, SIGILL,
// SIGFPE and SIGABRT (on any thread) execute `exe_fd` with `argv` instead
// of dumping core, so that a new binary that crashes while restoring hands
// the same state back to the old one. The handler makes only
// async-signal-safe calls (the argv array is built here); it runs on an
// alternate stack where the arming thread has none, so a stack overflow is
// caught too. If that exec fails, the handler restores the signal's default
// action and raises it again: the crash is reported as without the guard.
// While armed, every fd the fallback needs (the state file, the sockets,
// the workers' channels) must stay inheritable (no FD_CLOEXEC): the exec
// happens from wherever the crash happened, with no chance to clear it.
// Arming again replaces the previous fallback.
Result<void> arm_crash_fallback(int exe_fd, std::vector<std::string> argv);
// Puts back the actions (and alternate stack) in place before arming.
void disarm_crash_fallback();

}  // namespace muster::daemon::handover
