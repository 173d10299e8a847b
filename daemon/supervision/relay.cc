#include "daemon/supervision/relay.h"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <utility>

#include "daemon/common/events.h"
#include "daemon/supervision/worker.h"

namespace muster::daemon {

void Relay::message(bool enabled, Worker& from, const std::vector<Worker*>& workers,
                    const boost::json::value& message, EventBus& events) {
  const std::string& app = from.identity().app;
  if (!enabled) {
    if (!std::exchange(hinted_, true))
      spdlog::info(
          "{}[{}] sent a message to its primary: musterd publishes it as a `message` "
          "event but forwards it to no other worker; an app whose primary relays "
          "messages between workers (socket.io's cluster adapter, setupPrimary()) needs "
          "relay = true in [apps.{}] (docs/compatibility.md)",
          app, from.identity().id, app);
    return;
  }
  std::string line;  // serialised once, for every receiver
  for (Worker* to : workers) {
    if (to == &from || !to->has_channel()) continue;
    if (line.empty()) line = boost::json::serialize(message);
    switch (to->send_relayed(line, from.channel_payload(), kMaxBacklog)) {
      case Worker::Relayed::sent:
        ++relayed_;
        dropping_.erase(to->identity().id);
        break;
      case Worker::Relayed::backlog: drop(*to, from, events); break;
      case Worker::Relayed::closed: break;  // its channel went: it is leaving
    }
  }
  // Forget receivers that are gone (worker ids are never reused).
  if (dropping_.size() > workers.size())
    std::erase_if(dropping_, [&](unsigned id) {
      return std::none_of(workers.begin(), workers.end(),
                          [&](Worker* w) { return w->identity().id == id; });
    });
}

void Relay::drop(Worker& to, Worker& from, EventBus& events) {
  ++dropped_;
  if (!dropping_.insert(to.identity().id).second) return;
  spdlog::warn(
      "{}[{}] does not read its channel (over {} bytes unread): relayed messages to it "
      "are dropped until it reads",
      to.identity().app, to.identity().id, kMaxBacklog);
  events.publish("relay_dropped", to.identity().app,
                 {{"id", to.identity().id},
                  {"pid", to.pid()},
                  {"from", from.identity().id},
                  {"reason", "backlog"}});
}

}  // namespace muster::daemon
