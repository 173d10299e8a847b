#include "scheduler/round_robin.h"

#include <algorithm>

namespace muster::scheduler {

RoundRobin::RoundRobin(Limits limits, HandOff hand_off)
    : limits_(limits), hand_off_(std::move(hand_off)) {}

void RoundRobin::add(WorkerId worker) {
  if (!members_.emplace(worker, Member{}).second) return;
  free_.push_back(worker);
  distribute();
}

ipc::UniqueFd RoundRobin::remove(WorkerId worker) {
  auto it = members_.find(worker);
  if (it == members_.end()) return {};
  ipc::UniqueFd taken;
  if (it->second.in_flight) taken = std::move(it->second.in_flight->fd);
  members_.erase(it);
  free_.erase(std::remove(free_.begin(), free_.end(), worker), free_.end());
  return taken;
}

void RoundRobin::connection(ipc::UniqueFd fd, Clock::time_point now) {
  pending_.push_back(Held{std::move(fd), now});
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
    // Back to the head of the queue (it is the oldest); the refusing worker
    // sits out for a moment so another one gets it.
    pending_.push_front(std::move(held));
    it->second.paused_until = now + limits_.refusal_pause;
  }
  distribute();
  return true;
}

std::size_t RoundRobin::tick(Clock::time_point now) {
  std::size_t expired = 0;
  while (!pending_.empty() && now - pending_.front().since >= limits_.pending_timeout) {
    pending_.pop_front();
    ++expired;
  }
  // Held connections are in arrival order except refused ones, which went
  // back to the front; look past the head for any other expired ones.
  auto old = std::remove_if(pending_.begin(), pending_.end(), [&](const Held& h) {
    return now - h.since >= limits_.pending_timeout;
  });
  expired += static_cast<std::size_t>(pending_.end() - old);
  pending_.erase(old, pending_.end());
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
  // The head is the oldest (refused connections return to it); cheap enough
  // to ask after every event.
  if (!pending_.empty()) consider(pending_.front().since + limits_.pending_timeout);
  for (const auto& [id, member] : members_)
    if (member.paused_until) consider(*member.paused_until);
  return next;
}

void RoundRobin::distribute() {
  while (!pending_.empty() && !free_.empty()) {
    WorkerId worker = free_.front();
    free_.pop_front();
    auto& member = members_.at(worker);
    member.in_flight = std::move(pending_.front());
    pending_.pop_front();
    if (!hand_off_(worker, member.in_flight->fd.get())) {
      // The worker cannot take connections any more; it will be removed.
      pending_.push_front(std::move(*member.in_flight));
      member.in_flight.reset();
    }
  }
}

}  // namespace muster::scheduler
