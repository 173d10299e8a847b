// relay = true: a worker's user message (process.send) goes to every other
// worker of its app that has a channel, in the order sent, as a Node primary
// running @socket.io/cluster-adapter's setupPrimary() forwards them
// (for each worker of cluster.workers but the sender: worker.send(message)).
// Answers addressed to one worker reach the others too, which ignore them, as
// under that primary. Bounded per receiver: a worker with more than
// kMaxBacklog bytes unread on its channel gets no more relayed messages until
// it reads (they are dropped, counted, and a `relay_dropped` event says so
// once per episode) instead of being disconnected for its backlog.
// Without relay, the first user message of the app logs a hint once.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace muster::daemon {

class EventBus;
class Worker;

class Relay {
 public:
  // Half the channel's own bound (ipc::NodeChannel::kMaxQueuedBytes), so
  // musterd's other messages to the worker always fit.
  static constexpr std::size_t kMaxBacklog = 4 << 20;

  // `from` sent `message`; `workers` are every live worker of its app.
  void message(bool enabled, Worker& from, const std::vector<Worker*>& workers,
               const boost::json::value& message, EventBus& events);

  std::uint64_t relayed() const { return relayed_; }  // deliveries, one per receiver
  std::uint64_t dropped() const { return dropped_; }

 private:
  void drop(Worker& to, Worker& from, EventBus& events);

  std::uint64_t relayed_ = 0;
  std::uint64_t dropped_ = 0;
  std::set<unsigned> dropping_;  // receivers dropping now (one event per episode)
  bool hinted_ = false;
};

}  // namespace muster::daemon
