// Node's round-robin distribution (lib/internal/cluster/round_robin_handle.js)
// as pure logic: accepted connections wait in a queue, ready workers in a free
// list; a connection goes to the first free worker, which is busy until it
// answers the `newconn`. Differences from Node, on purpose:
//  - with no worker, connections are held (bounded by max_pending and
//    pending_timeout) instead of the handle being closed;
//  - a worker that refuses a connection (accepted:false, e.g. maxConnections)
//    is paused for `refusal_pause`, so the connection goes to another worker
//    instead of bouncing back to the same one thousands of times a second;
//  - with client affinity (set_slots(n), n > 0: affinity = "client-ip"), a
//    connection that comes with a client key is pinned to one instance slot
//    (scheduler/affinity.h) and waits for a free worker of that slot; the
//    others go to the first free worker as above. A connection that waited
//    pending_timeout for a slot with no worker moves to the next slot of its
//    client's ranking that has one, and the slot is skipped (its clients go
//    to their next slot at once) until a worker of it listens again; a
//    connection that waited pending_timeout anywhere else is closed, as
//    without affinity.
// No sockets or timers here: the caller passes times in and sends through
// the HandOff callback.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "ipc/unique_fd.h"
#include "scheduler/affinity.h"

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

  // Client affinity over slots 0..slots-1; 0 (the default) turns it off.
  // Connections held for a slot that no longer exists go to their next slot.
  void set_slots(unsigned slots);
  unsigned slots() const { return slots_; }

  // A worker (of instance slot `slot`) listens on this handle: it joins the
  // free list.
  void add(WorkerId worker, unsigned slot = 0);
  // A worker left (closed its server, disconnected or died). A connection it
  // was handed and has not answered is not re-queued (it may already have
  // it): it is handed back, for the caller to close once nothing can still be
  // sending it to that worker.
  ipc::UniqueFd remove(WorkerId worker);
  bool has(WorkerId worker) const { return members_.count(worker) != 0; }

  // A newly accepted connection; `client` is its client's key (affinity).
  void connection(ipc::UniqueFd fd, Clock::time_point now,
                  std::optional<ClientKey> client = std::nullopt);
  // The worker's answer to its newconn. Returns false if it had none pending.
  bool reply(WorkerId worker, bool accepted, Clock::time_point now);
  // Closes held connections older than pending_timeout (or moves them to
  // their next slot, see above) and ends refusal pauses that are over;
  // returns how many connections were closed.
  std::size_t tick(Clock::time_point now);
  // When tick() next has something to do.
  std::optional<Clock::time_point> next_deadline() const;

  std::size_t pending() const { return pending_; }
  // The queue is full: stop accepting (the kernel backlog holds the rest).
  bool full() const { return pending_ >= limits_.max_pending; }
  std::size_t workers() const { return members_.size(); }
  // Affinity: connections moved to another slot (over the handle's life), and
  // the slots being skipped now.
  std::uint64_t moved() const { return moved_; }
  const std::set<unsigned>& skipped() const { return skipped_; }

  // Public for round_robin.cc's helpers only.
  struct Held {
    ipc::UniqueFd fd;
    Clock::time_point since;
    std::optional<ClientKey> client;  // set only with affinity on
    bool moved = false;               // waited for its own slot already
  };

 private:
  struct Member {
    unsigned slot = 0;
    std::optional<Held> in_flight;                  // handed, not yet answered
    std::optional<Clock::time_point> paused_until;  // after a refusal
  };
  bool has_worker(unsigned slot) const;
  // Into the queue of the slot it goes to (at the front: it is the oldest).
  void hold(Held held, bool front = false);
  std::size_t expire_pinned(Clock::time_point now);
  void distribute();
  void give(WorkerId worker, Member& member, Held held);

  Limits limits_;
  HandOff hand_off_;
  unsigned slots_ = 0;
  std::unordered_map<WorkerId, Member> members_;
  std::unordered_map<unsigned, unsigned> slot_workers_;  // slot -> members in it
  std::deque<WorkerId> free_;                            // first = next to receive
  // Oldest first. Connections pinned to no slot, and those of each slot
  // (no empty queue is kept).
  std::deque<Held> any_;
  std::map<unsigned, std::deque<Held>> pinned_;
  std::size_t pending_ = 0;
  std::set<unsigned> skipped_;
  std::uint64_t moved_ = 0;
};

}  // namespace muster::scheduler
