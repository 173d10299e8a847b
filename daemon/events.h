// Cluster events (Node's names: fork, online, listening, disconnect, exit,
// message, plus muster's restart and failed): kept in a bounded history for
// `musterctl events` and pushed to followers as they happen.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>

#include "daemon/followers.h"

namespace muster::daemon {

// The current time as RFC 3339 UTC with milliseconds ("2026-11-25T10:47:08.689Z").
std::string now_rfc3339();

class EventBus {
 public:
  static constexpr std::size_t kHistory = 1000;
  using Follower = Followers::Follower;

  // Adds "event", "app" and "time" to `fields` and publishes it.
  void publish(std::string_view event, const std::string& app, boost::json::object fields = {});

  boost::json::array recent() const;
  std::uint64_t follow(Follower follower);
  void unfollow(std::uint64_t id);

 private:
  std::deque<boost::json::object> history_;
  Followers followers_;
};

}  // namespace muster::daemon
