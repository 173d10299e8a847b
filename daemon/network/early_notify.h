// Notify datagrams that arrive before musterd knows their sender is a worker.
// The spawner thread (daemon/launch/spawner.h) tells the loop a child's pid
// once the child has exec'd, and a fast systemd-protocol worker can send
// READY=1 before the loop has heard that: its datagram must wait for its
// worker, not be dropped (the worker would never be ready: sd_notify sends
// READY=1 once). Bounded in number and in age, so that datagrams from
// processes that never become workers cannot pile up or reach a worker that
// later gets the same pid.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <deque>
#include <vector>

#include "daemon/common/clock.h"
#include "ipc/notify_message.h"

namespace muster::daemon {

class EarlyNotify {
 public:
  static constexpr std::size_t kMaxKept = 64;
  static constexpr Clock::duration kMaxAge = std::chrono::seconds(5);

  // Keeps `message` from `sender`, which is no known worker (yet).
  void keep(pid_t sender, ipc::NotifyMessage message, Clock::time_point now);
  // The messages `pid` sent before it was known, in the order they came
  // (and forgets them); none older than kMaxAge.
  std::vector<ipc::NotifyMessage> take(pid_t pid, Clock::time_point now);
  std::size_t size() const { return kept_.size(); }

 private:
  struct Kept {
    pid_t sender;
    ipc::NotifyMessage message;
    Clock::time_point at;
  };
  void expire(Clock::time_point now);
  std::deque<Kept> kept_;
};

}  // namespace muster::daemon
