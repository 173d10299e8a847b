#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <vector>

#include "daemon/common/signals.h"

using muster::daemon::caught_signals;
using muster::daemon::signal_action;
using muster::daemon::SignalAction;

namespace {

// signal(7): the signals whose default action ends the process (Term or
// Core), SIGKILL aside (it cannot be caught).
std::vector<int> fatal_by_default() {
  std::vector<int> out{SIGHUP,  SIGINT,  SIGQUIT,   SIGILL,  SIGTRAP, SIGABRT, SIGBUS,
                       SIGFPE,  SIGUSR1, SIGSEGV,   SIGUSR2, SIGPIPE, SIGALRM, SIGTERM,
                       SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO,   SIGSYS};
#ifdef SIGSTKFLT
  out.push_back(SIGSTKFLT);
#endif
#ifdef SIGPWR
  out.push_back(SIGPWR);
#endif
  for (int signo = SIGRTMIN; signo <= SIGRTMAX; ++signo) out.push_back(signo);
  return out;
}

bool caught(int signo) {
  auto all = caught_signals();
  return std::find(all.begin(), all.end(), signo) != all.end();
}

}  // namespace

TEST_CASE("every signal that would end musterd has an answer", "[signals]") {
  for (int signo : fatal_by_default()) {
    INFO("signal " << signo);
    CHECK(signal_action(signo) != SignalAction::left_alone);
  }
}

TEST_CASE("only musterd's own faults keep their default", "[signals]") {
  for (int signo : fatal_by_default()) {
    INFO("signal " << signo);
    bool fault = signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL ||
                 signo == SIGABRT || signo == SIGTRAP || signo == SIGSYS;
    CHECK((signal_action(signo) == SignalAction::fault) == fault);
    bool discarded = signo == SIGPIPE || signo == SIGXFSZ;
    CHECK((signal_action(signo) == SignalAction::discarded) == discarded);
    CHECK(caught(signo) == (!fault && !discarded));
  }
}

TEST_CASE("the signals with a meaning", "[signals]") {
  CHECK(signal_action(SIGTERM) == SignalAction::stop);
  CHECK(signal_action(SIGINT) == SignalAction::stop);
  CHECK(signal_action(SIGQUIT) == SignalAction::stop);
  CHECK(signal_action(SIGHUP) == SignalAction::reload);
  CHECK(signal_action(SIGUSR1) == SignalAction::reopen);
  CHECK(signal_action(SIGUSR2) == SignalAction::upgrade);
  CHECK(signal_action(SIGALRM) == SignalAction::ignored);
  CHECK(signal_action(SIGRTMIN) == SignalAction::ignored);
  CHECK(signal_action(SIGRTMAX) == SignalAction::ignored);
}

TEST_CASE("signals that do not end a process, or cannot be caught, are left alone", "[signals]") {
  for (int signo :
       {SIGKILL, SIGSTOP, SIGCHLD, SIGCONT, SIGURG, SIGWINCH, SIGTSTP, SIGTTIN, SIGTTOU}) {
    INFO("signal " << signo);
    CHECK(signal_action(signo) == SignalAction::left_alone);
    CHECK_FALSE(caught(signo));
  }
  // glibc's own (SIGCANCEL, SIGSETXID) below SIGRTMIN.
  for (int signo = 32; signo < SIGRTMIN; ++signo) CHECK_FALSE(caught(signo));
}
