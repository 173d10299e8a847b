// Where an app's worker output goes: lines into the daemon's log (prefixed
// `app[id]`) or into output_file (OutputFile), plus a bounded in-memory tail,
// with the writer's id, and live followers for `musterctl logs`.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "config/config.h"
#include "daemon/followers.h"
#include "daemon/output_file.h"

namespace muster::daemon {

class OutputSink {
 public:
  static constexpr std::size_t kTail = 1000;
  using Follower = Followers::Follower;

  explicit OutputSink(const config::AppConfig& app);
  // A new config (reload): file, size limit and kept count may change.
  void configure(const config::AppConfig& app);

  void line(unsigned worker_id, std::string_view text);

  boost::json::array tail(std::size_t n) const;
  std::uint64_t follow(Follower follower);
  void unfollow(std::uint64_t id);

 private:
  std::string app_;
  config::Output output_;
  OutputFile file_;
  std::deque<boost::json::object> tail_;
  Followers followers_;
};

}  // namespace muster::daemon
