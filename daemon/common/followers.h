// Control clients following a stream (events, logs): each gets every line
// published after it subscribed, until it unsubscribes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace muster::daemon {

class Followers {
 public:
  using Follower = std::function<void(const std::string& line)>;  // line ends in '\n'

  std::uint64_t add(Follower follower) {
    auto id = next_id_++;
    followers_.emplace(id, std::move(follower));
    return id;
  }
  void remove(std::uint64_t id) { followers_.erase(id); }
  bool empty() const { return followers_.empty(); }

  void publish(const std::string& line) {
    // A follower may unsubscribe (its client went away) while we iterate.
    std::vector<std::uint64_t> ids;
    for (auto& [id, _] : followers_) ids.push_back(id);
    for (auto id : ids)
      if (auto it = followers_.find(id); it != followers_.end()) it->second(line);
  }

 private:
  std::map<std::uint64_t, Follower> followers_;
  std::uint64_t next_id_ = 1;
};

}  // namespace muster::daemon
