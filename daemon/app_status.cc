// App::status(): the app, its workers and, for slots without a worker, why
// and when they are tried next (the `status` reply; docs/control-protocol.md).
#include "daemon/app.h"
#include "daemon/listen_socket.h"
#include "daemon/on_demand.h"
#include "daemon/rr_handle.h"

namespace muster::daemon {
namespace {

boost::json::value ms_until(std::optional<Clock::time_point> when) {
  if (!when) return nullptr;
  auto left = std::chrono::duration_cast<Duration>(*when - Clock::now()).count();
  return std::max<Duration::rep>(left, 0);
}

}  // namespace

std::vector<RrHandle*> App::round_robins() const {
  std::vector<RrHandle*> out = context_.on_demand.round_robins(name());
  for (auto& s : context_.sockets.all())
    if (RrHandle* rr = s->round_robin_if_any(); rr && rr->app() == name()) out.push_back(rr);
  return out;
}

// affinity = "client-ip" (App::scale): a removed slot's clients move to their
// next slot now, an added slot takes its clients from the others.
void App::resize_round_robins(unsigned instances) {
  for (RrHandle* rr : round_robins()) rr->set_slots(instances);
}

// Connections held for this app's round-robin sockets, declared or on demand.
std::size_t App::pending() const {
  std::size_t n = 0;
  for (RrHandle* rr : round_robins()) n += rr->pending();
  return n;
}

boost::json::object App::status() const {
  boost::json::array workers;
  auto add = [&](const Worker& w) {
    const auto& who = w.identity();
    boost::json::object o;
    o["id"] = who.id;
    o["instance"] = who.instance;
    o["pid"] = w.pid();
    o["state"] = to_string(w.state());
    o["uptime_ms"] = w.uptime().count();
    o["restarts"] = who.restarts;
    o["connections"] = w.connections();
    o["rss_bytes"] = w.usage().rss_bytes;  // sampled (App::kUsageInterval)
    o["ready"] = w.ready_now();
    o["stopped"] = w.stopped();  // as of the last sample, like rss_bytes
    if (!w.status_text().empty()) o["status"] = w.status_text();
    workers.push_back(std::move(o));
  };
  boost::json::array empty_slots;
  for (unsigned i = 0; i < slots_.size(); ++i) {
    const auto& slot = *slots_[i];
    if (slot.worker) {
      add(*slot.worker);
      continue;
    }
    if (state_ == AppState::stopped) continue;
    boost::json::object e{{"instance", i},
                          {"last_exit", slot.last_exit.empty() ? boost::json::value(nullptr)
                                                               : boost::json::value(slot.last_exit)},
                          {"crash_loop", slot.crash_loop},
                          {"next_try_ms", slot.queued ? boost::json::value(0) : ms_until(slot.next_try)}};
    empty_slots.push_back(std::move(e));
  }
  if (reload_)
    for (auto& [instance, w] : reload_->candidates) add(*w);
  for (auto& w : leaving_) add(*w);
  boost::json::object app;
  app["name"] = config_.name;
  app["state"] = to_string(state_);
  app["protocol"] = config::to_string(config_.protocol);
  app["scheduling"] = config_.protocol == config::Protocol::none
                         ? "none" : config::to_string(config_.scheduling);
  app["instances"] = slots_.size();
  app["restarts"] = counters_.restarts;
  app["pending"] = pending();
  if (config_.relay)
    app["relay"] = {{"relayed", relay_.relayed()}, {"dropped", relay_.dropped()}};
  if (config_.affinity != config::Affinity::none)
    app["affinity"] = config::to_string(config_.affinity);
  app["workers"] = std::move(workers);
  app["empty_slots"] = std::move(empty_slots);
  if (state_ == AppState::failed) app["retry_in_ms"] = ms_until(retry_at_);
  return app;
}

}  // namespace muster::daemon
