// The one seam where worker processes start and end. Worker and App never
// call clone, kill or waitid themselves: they ask the Launcher in their
// WorkerContext. musterd's is ProcessLauncher (daemon/launch/process_launcher.h:
// clone + exec, a pidfd per process, the orphan reaper's bookkeeping); unit
// tests use a fake (tests/unit/fake_launcher.h) that records each spawn and
// lets the test decide how and when each process ends.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "daemon/launch/spawn.h"

namespace muster::daemon {

// How a process ended; neither set: unknown (its status could not be read).
struct ProcessExit {
  std::optional<int> code;    // exit status, if it exited
  std::optional<int> signal;  // terminating signal, if killed
};

// Whom a signal goes to. A worker leads its own process group (setsid at
// spawn).
enum class SignalTarget {
  process,           // the pid only
  group,             // the process group only (the pid may be reaped already)
  group_or_process,  // the group; the pid if the group is already gone
};

class Launcher {
 public:
  virtual ~Launcher() = default;

  using Started = Result<pid_t>;
  using SpawnDone = std::function<void(Started)>;
  // Starts the process without holding the event loop: `done` runs later,
  // from the loop, with its pid once it has exec'd, or the error saying
  // which step failed (a child that failed is reaped). The fds `spec` names
  // may be closed as soon as this returns. From `done` until its exit is
  // collected (watch_exit) or it is released, the process is the caller's:
  // nothing else reaps it.
  virtual void spawn(const SpawnSpec& spec, SpawnDone done) = 0;

  // An upgrade in place (issue 25): `pid` is a child this process already
  // has, started by the musterd that exec'd into this one (same pid). It is
  // the caller's from now on, as if spawn() had answered with it; watch its
  // exit next. The error (ESRCH) if there is no such process.
  virtual Result<void> adopt(pid_t pid) = 0;

  using ExitHandler = std::function<void(const ProcessExit&)>;
  // Collects `pid`'s exit: `done` runs once, from the event loop, after the
  // process has exited and been reaped. The error (with its errno) if the
  // exit cannot be watched (then `done` never runs).
  virtual Result<void> watch_exit(pid_t pid, ExitHandler done) = 0;

  // Sends `signo`; 0 or the errno of the failure.
  virtual int signal(pid_t pid, int signo, SignalTarget target) = 0;

  // A process whose exit its owner will not collect (its Worker is going):
  // the orphan reaper reaps it when it exits.
  virtual void release(pid_t pid) = 0;
  // Runs `task` on the thread that starts processes and waits until it
  // returns (an in-place upgrade's exec: daemon/launch/spawner.h says why
  // that thread). It may not return: an exec that worked.
  virtual void run_on_spawning_thread(const std::function<void()>& task) = 0;
};

}  // namespace muster::daemon
