// Restart decisions, as pure logic (no clocks, no processes): tests drive them
// with explicit times.
//  - Backoff: per instance slot; the delay before refilling a slot doubles with
//    each consecutive crash or clean exit, capped, and resets once a worker
//    lived min_uptime.
//  - CrashWindow: per slot; more than max_restarts automatic restarts of one
//    slot within restart_window means that slot is in a crash loop. One crash
//    per slot is never a loop, however many slots crash at once.
//  - OperatorSignals: whether an operator's `kill` is what ended a worker (a
//    voluntary exit: refilled at once) or it crashed after it.
//  - jittered(): restart delays are spread by ±20 % so slots that crashed
//    together (a shared outage) do not come back, and fail, in lockstep.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "config/config.h"
#include "daemon/common/clock.h"

namespace muster::daemon {

using config::Duration;

class Backoff {
 public:
  Backoff(Duration first, Duration max, Duration min_uptime)
      : first_(first), max_(max), min_uptime_(min_uptime) {}

  // Called when a worker of the slot exited on its own (a crash, or a clean
  // exit under restart = "always") after `uptime`; returns how long to wait
  // before refilling the slot.
  Duration on_crash(Duration uptime);

  // Consecutive crashes counted so far (0 after a reset).
  unsigned consecutive() const { return consecutive_; }
  void reset() { consecutive_ = 0; }
  // An upgrade in place (handover_records.h) carries the count across.
  void restore(unsigned consecutive) { consecutive_ = consecutive; }

 private:
  Duration first_, max_, min_uptime_;
  unsigned consecutive_ = 0;
};

class CrashWindow {
 public:
  CrashWindow(unsigned max_restarts, Duration window) : max_(max_restarts), window_(window) {}

  // Records one automatic restart at `now`; returns true if that makes more
  // than max_restarts within the window (a crash loop).
  bool record(Clock::time_point now);
  void reset() { times_.clear(); }
  // For an upgrade in place (handover_records.h): steady-clock times do not
  // survive an exec, their ages do. Oldest first.
  std::vector<Duration> ages(Clock::time_point now) const;
  void restore(const std::vector<Duration>& ages, Clock::time_point now);

 private:
  unsigned max_;
  Duration window_;
  std::deque<Clock::time_point> times_;  // bounded: at most max_ + 1 entries
};

// `delay` scaled by a factor in [0.8, 1.2) chosen by `unit` (a sample in
// [0, 1)), never above `cap`: the cap is what bounds how long a slot waits.
Duration jittered(Duration delay, Duration cap, double unit);

// Whether an operator's signal (`musterctl kill ID --signal SIG`) is what
// ended a worker's life, decided at its exit. The rule (musterctl(1), kill):
//  - killed by a signal: only if the operator sent that very signal. A
//    worker that traps SIGUSR2 and later dies of SIGSEGV has crashed.
//  - exited with a code: only within stop_timeout of an operator's signal
//    that asks a process to end (SIGTERM, SIGINT, SIGQUIT or the app's
//    stop_signal): a worker that traps SIGTERM and exits, with any code, is
//    answering it; an exit later, or after any other signal, is its own.
class OperatorSignals {
 public:
  void sent(int signo, Clock::time_point now, int stop_signal, Duration stop_timeout);
  // `signal`: the signal that killed it; none when it exited with a code.
  bool ended_it(std::optional<int> signal, Clock::time_point now) const;
  bool operator==(const OperatorSignals&) const = default;

 private:
  std::uint64_t sent_ = 0;                      // bit n-1: signal n was sent (Linux has 64)
  std::optional<Clock::time_point> answer_by_;  // a code exit until then is the answer
};

// Whether an exit should be followed by a restart, by the app's restart mode.
// `voluntary`: the daemon or the operator asked for it (stop, kill, disconnect).
bool should_restart(config::RestartMode mode, bool voluntary, bool clean_exit);

}  // namespace muster::daemon
