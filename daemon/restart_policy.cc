#include "daemon/restart_policy.h"

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

Duration jittered(Duration delay, Duration cap, double unit) {
  unit = std::clamp(unit, 0.0, 1.0);
  auto scaled = static_cast<Duration::rep>(static_cast<double>(delay.count()) * (0.8 + 0.4 * unit));
  return std::min(Duration{scaled}, cap);
}

bool should_restart(config::RestartMode mode, bool voluntary, bool clean_exit) {
  switch (mode) {
    case config::RestartMode::always:
      return true;
    case config::RestartMode::on_failure:
      return !voluntary && !clean_exit;
    case config::RestartMode::never:
      return false;
  }
  return false;
}

}  // namespace muster::daemon
