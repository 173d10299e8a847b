#include "daemon/supervision/restart_policy.h"

#include <signal.h>

#include <algorithm>

namespace muster::daemon {

Duration Backoff::on_crash(Duration uptime) {
  if (uptime >= min_uptime_) consecutive_ = 0;
  ++consecutive_;
  // first * 2^(n-1), computed without overflow: stop doubling at the cap.
  Duration delay = first_;
  for (unsigned i = 1; i < consecutive_ && delay < max_; ++i) delay *= 2;
  return std::min(delay, max_);
}

bool CrashWindow::record(Clock::time_point now) {
  times_.push_back(now);
  while (!times_.empty() && now - times_.front() > window_) times_.pop_front();
  bool loop = times_.size() > max_;
  while (times_.size() > max_ + 1) times_.pop_front();
  return loop;
}

std::vector<Duration> CrashWindow::ages(Clock::time_point now) const {
  std::vector<Duration> out;
  for (auto t : times_) out.push_back(std::chrono::duration_cast<Duration>(now - t));
  return out;
}

void CrashWindow::restore(const std::vector<Duration>& ages, Clock::time_point now) {
  times_.clear();
  // At most max_ + 1 kept, as record() keeps them: the newest.
  std::size_t skip = ages.size() > max_ + 1 ? ages.size() - (max_ + 1) : 0;
  for (std::size_t i = skip; i < ages.size(); ++i) times_.push_back(now - ages[i]);
}

Duration jittered(Duration delay, Duration cap, double unit) {
  unit = std::clamp(unit, 0.0, 1.0);
  auto scaled = static_cast<Duration::rep>(static_cast<double>(delay.count()) * (0.8 + 0.4 * unit));
  return std::min(Duration{scaled}, cap);
}

void OperatorSignals::sent(int signo, Clock::time_point now, int stop_signal,
                           Duration stop_timeout) {
  if (signo < 1 || signo > 64) return;
  sent_ |= std::uint64_t{1} << (signo - 1);
  if (signo == SIGTERM || signo == SIGINT || signo == SIGQUIT || signo == stop_signal)
    answer_by_ = now + stop_timeout;
}

bool OperatorSignals::ended_it(std::optional<int> signal, Clock::time_point now) const {
  if (signal) return *signal >= 1 && *signal <= 64 && (sent_ >> (*signal - 1) & 1);
  return answer_by_ && now <= *answer_by_;
}

bool should_restart(config::RestartMode mode, bool voluntary, bool clean_exit) {
  switch (mode) {
    case config::RestartMode::always: return true;
    case config::RestartMode::on_failure: return !voluntary && !clean_exit;
    case config::RestartMode::never: return false;
  }
  return false;
}

}  // namespace muster::daemon
