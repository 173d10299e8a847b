// What `watch` does with the changes it sees: collects them until none has
// come for the delay, then fires once (Debounce); and lets one reload run at
// a time with at most one more queued behind it (ReloadQueue).
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "daemon/common/clock.h"

namespace muster::daemon {

// The changes of one quiet period: the first few files, in the order they
// changed, and how many distinct files changed in all.
struct ChangeBatch {
  static constexpr std::size_t kShown = 5;
  std::vector<std::string> files;
  std::size_t count = 0;
};

class Debounce : public std::enable_shared_from_this<Debounce> {
 public:
  using Fire = std::function<void(ChangeBatch)>;
  // Changes that never stop (a log written inside a watched tree) still fire
  // this many delays after the first of them.
  static constexpr int kMaxDelays = 10;
  // Distinct names remembered per batch; beyond, each change counts as new.
  static constexpr std::size_t kMaxRemembered = 10000;

  Debounce(boost::asio::io_context& io, Clock::duration delay, Fire fire);
  // `file` changed: fire once no change has come for the delay.
  void note(const std::string& file);
  // Drops the batch under way without firing.
  void cancel();

 private:
  void arm();
  void fire();

  Timer timer_;
  Clock::duration delay_;
  Fire fire_;
  ChangeBatch batch_;
  std::unordered_set<std::string> seen_;
  Clock::time_point first_{};
};

// One reload at a time: a request while one runs queues one more (however
// many come), started when the running one finishes.
class ReloadQueue {
 public:
  // True: start a reload now. False: one is running; one more is queued.
  bool request();
  // The running reload is over. True: start the queued one now.
  bool finished();
  bool running() const { return running_; }

 private:
  bool running_ = false;
  bool queued_ = false;
};

}  // namespace muster::daemon
