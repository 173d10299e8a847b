#include "scheduler/round_robin.h"

#include <algorithm>

namespace muster::scheduler {

RoundRobin::RoundRobin(Limits limits, HandOff hand_off)
    : limits_(limits), hand_off_(std::move(hand_off)) {}

void RoundRobin::set_slots(unsigned slots) {
  if (slots == slots_) return;
  slots_ = slots;
  std::erase_if(skipped_, [&](unsigned s) { return s >= slots_; });
  // Connections held for a slot that is gone (or all of them, affinity off)
  // go where they would go now; a removed slot's clients to their next slot.
  std::vector<Held> again;
  for (auto it = pinned_.begin(); it != pinned_.end();) {
    if (slots_ != 0 && it->first < slots_) {
      ++it;
      continue;
    }
    for (Held& held : it->second) again.push_back(std::move(held));
    pending_ -= it->second.size();
    it = pinned_.erase(it);
  }
  for (Held& held : again) hold(std::move(held));
  distribute();
}

void RoundRobin::add(WorkerId worker, unsigned slot) {
  if (!members_.emplace(worker, Member{slot, {}, {}}).second) return;
  ++slot_workers_[slot];
  skipped_.erase(slot);  // its clients come back to it
  free_.push_back(worker);
  distribute();
}

ipc::UniqueFd RoundRobin::remove(WorkerId worker) {
  auto it = members_.find(worker);
  if (it == members_.end()) return {};
  ipc::UniqueFd taken;
  if (it->second.in_flight) taken = std::move(it->second.in_flight->fd);
  if (--slot_workers_[it->second.slot] == 0) slot_workers_.erase(it->second.slot);
  members_.erase(it);
  free_.erase(std::remove(free_.begin(), free_.end(), worker), free_.end());
  return taken;
}

void RoundRobin::connection(ipc::UniqueFd fd, Clock::time_point now,
                            std::optional<ClientKey> client) {
  hold(Held{std::move(fd), now, slots_ != 0 ? client : std::nullopt});
  distribute();
}

bool RoundRobin::reply(WorkerId worker, bool accepted, Clock::time_point now) {
  auto it = members_.find(worker);
  if (it == members_.end() || !it->second.in_flight) return false;
  Held held = std::move(*it->second.in_flight);
  it->second.in_flight.reset();
  if (accepted) {
    held.fd.reset();  // the worker has its own copy now
    free_.push_back(worker);
  } else {
    // Back to the head of its queue (it is the oldest); the refusing worker
    // sits out for a moment so another one gets it.
    hold(std::move(held), true);
    it->second.paused_until = now + limits_.refusal_pause;
  }
  distribute();
  return true;
}

bool RoundRobin::has_worker(unsigned slot) const { return slot_workers_.count(slot) != 0; }

void RoundRobin::hold(Held held, bool front) {
  std::optional<unsigned> slot;
  if (held.client && slots_ != 0) {
    // A connection that waited for its own slot in vain takes the next one
    // with a worker; the others the first slot not being skipped.
    slot = best_slot(*held.client, slots_, [&](unsigned s) {
      return !skipped_.count(s) && (!held.moved || has_worker(s));
    });
  }
  auto& queue = slot ? pinned_[*slot] : any_;
  if (front)
    queue.push_front(std::move(held));
  else
    queue.push_back(std::move(held));
  ++pending_;
}

// Removes the connections of `queue` held since before `cutoff`: those
// `keep` accepts into `kept`, the others closed (counted in the result).
template <class Keep>
static std::size_t take_old(std::deque<RoundRobin::Held>& queue, Clock::time_point cutoff,
                            Keep&& keep, std::vector<RoundRobin::Held>& kept) {
  std::size_t closed = 0;
  // Held connections are in arrival order except refused ones, which went
  // back to the front: look at all of them.
  auto old = std::stable_partition(queue.begin(), queue.end(),
                                   [&](const RoundRobin::Held& h) { return h.since > cutoff; });
  for (auto it = old; it != queue.end(); ++it) {
    if (keep(*it))
      kept.push_back(std::move(*it));
    else
      ++closed;
  }
  queue.erase(old, queue.end());
  return closed;
}

std::size_t RoundRobin::expire_pinned(Clock::time_point now) {
  Clock::time_point cutoff = now - limits_.pending_timeout;
  std::size_t closed = 0;
  std::vector<Held> moving;
  for (auto it = pinned_.begin(); it != pinned_.end();) {
    std::size_t before = it->second.size();
    bool empty_slot = !has_worker(it->first);
    std::size_t moving_before = moving.size();
    closed += take_old(
        it->second, cutoff, [&](Held& h) { return empty_slot && !h.moved; }, moving);
    if (moving.size() != moving_before) {
      // Nobody came for this slot in time: skip it (its clients go to their
      // next slot at once) until a worker of it listens again.
      skipped_.insert(it->first);
      for (Held& h : it->second) moving.push_back(std::move(h));
      it->second.clear();
    }
    pending_ -= before - it->second.size();
    it = it->second.empty() ? pinned_.erase(it) : std::next(it);
  }
  for (Held& held : moving) {
    held.moved = true;
    held.since = now;  // a pending_timeout more, at its next slot
    ++moved_;
    hold(std::move(held));
  }
  return closed;
}

std::size_t RoundRobin::tick(Clock::time_point now) {
  std::vector<Held> none;
  std::size_t expired = take_old(
      any_, now - limits_.pending_timeout, [](const Held&) { return false; }, none);
  pending_ -= expired;
  expired += expire_pinned(now);
  for (auto& [id, member] : members_) {
    if (member.paused_until && *member.paused_until <= now) {
      member.paused_until.reset();
      free_.push_back(id);
    }
  }
  distribute();
  return expired;
}

std::optional<Clock::time_point> RoundRobin::next_deadline() const {
  std::optional<Clock::time_point> next;
  auto consider = [&](Clock::time_point t) {
    if (!next || t < *next) next = t;
  };
  // A queue's head is its oldest (refused connections return to it); cheap
  // enough to ask after every event.
  if (!any_.empty()) consider(any_.front().since + limits_.pending_timeout);
  for (const auto& [slot, queue] : pinned_) consider(queue.front().since + limits_.pending_timeout);
  for (const auto& [id, member] : members_)
    if (member.paused_until) consider(*member.paused_until);
  return next;
}

void RoundRobin::distribute() {
  // Each free worker in turn takes the oldest connection of its slot, else
  // one pinned to no slot; a worker with neither stays free.
  for (std::size_t i = 0; i < free_.size() && pending_ != 0;) {
    WorkerId worker = free_[i];
    Member& member = members_.at(worker);
    auto pinned = pinned_.find(member.slot);
    std::deque<Held>* queue = pinned != pinned_.end() ? &pinned->second
                              : !any_.empty()         ? &any_
                                                      : nullptr;
    if (!queue) {
      ++i;
      continue;
    }
    Held held = std::move(queue->front());
    queue->pop_front();
    if (queue->empty() && queue != &any_) pinned_.erase(pinned);
    --pending_;
    free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
    give(worker, member, std::move(held));
  }
}

void RoundRobin::give(WorkerId worker, Member& member, Held held) {
  member.in_flight = std::move(held);
  if (!hand_off_(worker, member.in_flight->fd.get())) {
    // The worker cannot take connections any more; it will be removed.
    hold(std::move(*member.in_flight), true);
    member.in_flight.reset();
  }
}

}  // namespace muster::scheduler
