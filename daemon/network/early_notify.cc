#include "daemon/network/early_notify.h"

#include <utility>

namespace muster::daemon {

void EarlyNotify::expire(Clock::time_point now) {
  while (!kept_.empty() && now - kept_.front().at > kMaxAge) kept_.pop_front();
}

void EarlyNotify::keep(pid_t sender, ipc::NotifyMessage message, Clock::time_point now) {
  expire(now);
  if (kept_.size() == kMaxKept) kept_.pop_front();
  kept_.push_back({sender, std::move(message), now});
}

std::vector<ipc::NotifyMessage> EarlyNotify::take(pid_t pid, Clock::time_point now) {
  expire(now);
  std::vector<ipc::NotifyMessage> out;
  for (auto it = kept_.begin(); it != kept_.end();) {
    if (it->sender != pid) {
      ++it;
      continue;
    }
    out.push_back(std::move(it->message));
    it = kept_.erase(it);
  }
  return out;
}

}  // namespace muster::daemon
