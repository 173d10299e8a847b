// Node's round-robin distribution (lib/internal/cluster/round_robin_handle.js)
// as pure logic: accepted connections wait in a queue, ready workers in a free
// list; a connection goes to the first free worker, which is busy until it
// answers the `newconn`. Differences from Node, on purpose:
//  - with no worker, connections are held (bounded by max_pending and
//    pending_timeout) instead of the handle being closed;
//  - a worker that refuses a connection (accepted:false, e.g. maxConnections)
//    is paused for `refusal_pause`, so the connection goes to another worker
//    instead of bouncing back to the same one thousands of times a second.
// No sockets or timers here: the caller passes times in and sends through
// the HandOff callback.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>

#include "ipc/unique_fd.h"

namespace muster::scheduler {

using WorkerId = unsigned;
using Clock = std::chrono::steady_clock;

class RoundRobin {
 public:
  struct Limits {
    std::size_t max_pending = 1024;
    Clock::duration pending_timeout = std::chrono::seconds(10);
    Clock::duration refusal_pause = std::chrono::milliseconds(100);
  };
  // Sends `fd` to `worker` as a newconn. False: the worker cannot take it
  // (its channel is gone); the connection is then kept for another worker.
  using HandOff = std::function<bool(WorkerId worker, int fd)>;

  RoundRobin(Limits limits, HandOff hand_off);

  // A worker listens on this handle: it joins the free list.
  void add(WorkerId worker);
  // A worker left (closed its server, disconnected or died). A connection it
  // was handed and has not answered is not re-queued (it may already have
  // it): it is handed back, for the caller to close once nothing can still be
  // sending it to that worker.
  ipc::UniqueFd remove(WorkerId worker);
  bool has(WorkerId worker) const { return members_.count(worker) != 0; }

  // A newly accepted connection.
  void connection(ipc::UniqueFd fd, Clock::time_point now);
  // The worker's answer to its newconn. Returns false if it had none pending.
  bool reply(WorkerId worker, bool accepted, Clock::time_point now);
  // Closes held connections older than pending_timeout and ends refusal
  // pauses that are over; returns how many connections were closed.
  std::size_t tick(Clock::time_point now);
  // When tick() next has something to do.
  std::optional<Clock::time_point> next_deadline() const;

  std::size_t pending() const { return pending_.size(); }
  // The queue is full: stop accepting (the kernel backlog holds the rest).
  bool full() const { return pending_.size() >= limits_.max_pending; }
  std::size_t workers() const { return members_.size(); }

 private:
  struct Held {
    ipc::UniqueFd fd;
    Clock::time_point since;
  };
  struct Member {
    std::optional<Held> in_flight;                 // handed, not yet answered
    std::optional<Clock::time_point> paused_until;  // after a refusal
  };
  void distribute();

  Limits limits_;
  HandOff hand_off_;
  std::unordered_map<WorkerId, Member> members_;
  std::deque<WorkerId> free_;   // first = next to receive
  std::deque<Held> pending_;    // first = oldest
};

}  // namespace muster::scheduler
