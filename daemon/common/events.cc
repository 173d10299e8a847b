#include "daemon/common/events.h"

#include <spdlog/fmt/chrono.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <chrono>

#include "daemon/common/memory_reserve.h"

#include "ipc/utf8.h"

namespace muster::daemon {
std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(now)),
                     static_cast<int>(ms.count()));
}

void EventBus::publish(std::string_view event, const std::string& app,
                       boost::json::object fields) noexcept {
  try {
    record(event, app, std::move(fields));
  } catch (const std::exception& e) {
    memory_reserve::release_if_out_of_memory(e);
    ++dropped_;
    spdlog::error("events: cannot publish '{}' of app '{}': {}; dropped", event, app, e.what());
  }
}

void EventBus::restore(const boost::json::array& events) {
  for (const auto& e : events)
    if (e.is_object()) keep(e.as_object());
}

void EventBus::record(std::string_view event, const std::string& app, boost::json::object fields) {
  boost::json::object e;
  e["event"] = event;
  e["app"] = app;
  for (auto& [k, v] : fields) e[k] = std::move(v);
  e["time"] = now_rfc3339();
  followers_.publish(keep(std::move(e)));
}

// Into the history; its line, as followers get it.
std::string EventBus::keep(boost::json::object e) {
  std::string line = boost::json::serialize(e);
  line += '\n';
  // As the control socket will send it (C1 controls as \u escapes take three
  // times their bytes): the history's byte bound is then what `events` sends.
  ipc::make_json_printable(line);
  history_.push_back({std::move(e), line.size()});
  history_bytes_ += line.size();
  // The newest event stays even if it alone is over the bytes (it cannot be:
  // a message is at most 1 MiB).
  while (history_.size() > kHistory || (history_bytes_ > kHistoryBytes && history_.size() > 1)) {
    history_bytes_ -= history_.front().bytes;
    history_.pop_front();
  }
  return line;
}

boost::json::array EventBus::recent() const {
  boost::json::array out;
  for (const auto& kept : history_) out.push_back(kept.event);
  return out;
}

std::uint64_t EventBus::follow(Follower follower) { return followers_.add(std::move(follower)); }

void EventBus::unfollow(std::uint64_t id) { followers_.remove(id); }

}  // namespace muster::daemon
