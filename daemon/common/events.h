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

#include "daemon/common/followers.h"

namespace muster::daemon {

// The current time as RFC 3339 UTC with milliseconds ("2026-11-25T10:47:08.689Z").
std::string now_rfc3339();

class EventBus {
 public:
  // The history keeps the newest events, at most this many and this many
  // bytes (as event lines): a worker's messages may be 1 MiB each, and the
  // `events` reply must fit a control session's reply bound (8 MiB).
  static constexpr std::size_t kHistory = 1000;
  static constexpr std::size_t kHistoryBytes = 4 << 20;
  using Follower = Followers::Follower;

  // Adds "event", "app" and "time" to `fields` and publishes it. Never
  // throws: publishing happens in the middle of state changes (a worker's
  // exit), so an event that cannot be recorded (out of memory) is dropped,
  // logged and counted instead of cutting the change short.
  void publish(std::string_view event, const std::string& app,
               boost::json::object fields = {}) noexcept;
  // Events dropped that way.
  std::uint64_t dropped() const { return dropped_; }

  boost::json::array recent() const;
  // An in-place upgrade: the history recent() gave the musterd before, put
  // back as it was (not published again; its bounds apply).
  void restore(const boost::json::array& events);
  std::uint64_t follow(Follower follower);
  void unfollow(std::uint64_t id);

 private:
  struct Kept {
    boost::json::object event;
    std::size_t bytes;  // of its line
  };
  void record(std::string_view event, const std::string& app, boost::json::object fields);
  std::string keep(boost::json::object event);

  std::deque<Kept> history_;
  std::size_t history_bytes_ = 0;
  Followers followers_;
  std::uint64_t dropped_ = 0;
};

}  // namespace muster::daemon
