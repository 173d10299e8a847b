#include "daemon/common/signals.h"

#include <signal.h>

namespace muster::daemon {

SignalAction signal_action(int signo) {
  if (signo >= SIGRTMIN && signo <= SIGRTMAX) return SignalAction::ignored;
  switch (signo) {
    case SIGTERM:
    case SIGINT:
    // As supervisord and nginx take it (and the terminal's Ctrl-\): quit.
    // Its default, a core dump, would take every worker with it.
    case SIGQUIT: return SignalAction::stop;
    case SIGHUP: return SignalAction::reload;
    case SIGUSR1: return SignalAction::reopen;
    case SIGUSR2: return SignalAction::upgrade;
    case SIGALRM:
    case SIGVTALRM:
    case SIGPROF:
    case SIGIO:  // = SIGPOLL
#ifdef SIGPWR
    case SIGPWR:
#endif
#ifdef SIGSTKFLT
    case SIGSTKFLT:
#endif
    // Past RLIMIT_CPU's soft limit, once a second; the kernel still ends
    // musterd at the hard limit (SIGKILL).
    case SIGXCPU: return SignalAction::ignored;
    case SIGPIPE:
    case SIGXFSZ: return SignalAction::discarded;
    case SIGSEGV:
    case SIGBUS:
    case SIGFPE:
    case SIGILL:
    case SIGABRT:
    case SIGTRAP:
    case SIGSYS: return SignalAction::fault;
    default: return SignalAction::left_alone;
  }
}

std::vector<int> caught_signals() {
  std::vector<int> out;
  for (int signo = 1; signo <= SIGRTMAX; ++signo) {
    switch (signal_action(signo)) {
      case SignalAction::stop:
      case SignalAction::reload:
      case SignalAction::reopen:
      case SignalAction::upgrade:
      case SignalAction::ignored: out.push_back(signo); break;
      case SignalAction::discarded:
      case SignalAction::fault:
      case SignalAction::left_alone: break;
    }
  }
  return out;
}

void prepare_signal_dispositions() {
  for (int signo = 1; signo <= SIGRTMAX; ++signo)
    if (signal_action(signo) == SignalAction::discarded) ::signal(signo, SIG_IGN);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

void restart_interrupted_calls(const std::vector<int>& signals) {
  for (int signo : signals) {
    struct sigaction action {};
    if (::sigaction(signo, nullptr, &action) < 0 || action.sa_handler == SIG_DFL ||
        action.sa_handler == SIG_IGN)
      continue;
    action.sa_flags |= SA_RESTART;
    ::sigaction(signo, &action, nullptr);
  }
}

}  // namespace muster::daemon
