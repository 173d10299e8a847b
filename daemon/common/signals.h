// What musterd does with each signal. A signal's default action would end
// musterd, and with it every worker (their parent-death signal, their closed
// channels): one stray `kill -USR1` would be an outage. So every signal whose
// default ends a process gets an answer here (musterd(8), SIGNALS, shows the
// table), except the faults that only musterd's own broken code raises.
#pragma once

#include <vector>

namespace muster::daemon {

enum class SignalAction {
  stop,     // TERM, INT, QUIT: graceful shutdown; a second one kills the workers now
  reload,   // HUP: reload-config
  reopen,   // USR1: reopen the apps' output files (logrotate's convention)
  upgrade,  // USR2: an in-place upgrade to the binary musterd was started from
  ignored,  // logged and ignored: ALRM, VTALRM, PROF, IO, PWR, STKFLT, XCPU, real-time
  // PIPE, XFSZ: ignored (SIG_IGN) and not logged. The kernel raises them for
  // musterd's own write to a closed pipe or past RLIMIT_FSIZE; the write then
  // fails with EPIPE or EFBIG, handled where it happens. Logging each could
  // raise the next (a closed stderr) and would cost a line per failed write.
  discarded,
  // SEGV, BUS, FPE, ILL, ABRT, TRAP, SYS: the default (a core dump). They
  // report musterd's own fault: a handler that returned would run on broken
  // state, or fault again forever.
  fault,
  // The default does not end the process (CHLD, CONT, URG, WINCH, the stop
  // signals), or it cannot be caught (KILL, STOP), or glibc keeps it (32, 33).
  left_alone,
};

SignalAction signal_action(int signo);
// The signals musterd's signal_set waits for: every stop, reload, reopen,
// upgrade and ignored one.
std::vector<int> caught_signals();
// Early in musterd, before any worker: SIG_IGN for the discarded signals, and an
// empty signal mask (a mask inherited from whoever started musterd would
// hold back SIGTERM or SIGHUP for good).
void prepare_signal_dispositions();
// SA_RESTART on each signal's handler. Boost.Asio installs its handler
// without it, so a signal arriving during a blocking call (a write to a
// full stderr pipe) would fail that call with EINTR.
void restart_interrupted_calls(const std::vector<int>& signals);

}  // namespace muster::daemon
