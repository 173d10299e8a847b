// App::snapshot(): the app, its workers and, for slots without a worker, why
// and when they are tried next, as plain values (daemon/observe/snapshot.h). What
// `status`, /metrics and /readyz show of the app is rendered from it.
#include "daemon/network/listen_socket.h"
#include "daemon/network/on_demand.h"
#include "daemon/network/rr_handle.h"
#include "daemon/observe/snapshot.h"
#include "daemon/supervision/app.h"

namespace muster::daemon {

// app.cc: a worker whose spawn is under way (no process yet). Declared here,
// not in worker.h, to keep this change to two files; a Worker member is the
// better home when worker.h changes next.
bool launching(const Worker& w);
namespace {

std::optional<Duration> time_until(std::optional<Clock::time_point> when, Clock::time_point now) {
  if (!when) return std::nullopt;
  return time_left<Duration>(*when, now);
}

WorkerSnapshot snapshot_of(const Worker& w) {
  const auto& who = w.identity();
  WorkerSnapshot s;
  s.id = who.id;
  s.instance = who.instance;
  s.restarts = who.restarts;
  s.pid = w.pid();
  s.state = w.state();
  s.uptime = w.uptime();
  s.connections = w.connections();
  // First: a worker without a figure yet is sampled now, and that sample
  // also says whether it is stopped.
  const ProcUsage& usage = w.usage();
  s.rss_bytes = usage.rss_bytes;
  s.cpu_seconds = usage.cpu_seconds;
  s.cpu_percent = w.cpu_percent();
  s.ready = w.ready();
  s.stopped = w.stopped();
  s.status_text = w.status_text();
  s.inspector = w.inspector();
  return s;
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

AppSnapshot App::snapshot() const {
  const auto now = Clock::now();
  AppSnapshot app;
  app.name = config_.name;
  app.state = state_;
  app.wanted_up = wanted_up();
  app.removed = removed_;
  app.protocol = config_.protocol;
  app.scheduling = config_.scheduling;
  app.instances = static_cast<unsigned>(slots_.size());
  for (unsigned i = 0; i < slots_.size(); ++i) {
    const auto& slot = *slots_[i];
    app.slots.push_back({i,
                         slot.restarts,
                         slot.backoff.consecutive(),
                         slot.crash_loop,
                         {slot.exits.recent().begin(), slot.exits.recent().end()}});
    if (slot.worker && !launching(*slot.worker)) {
      app.workers.push_back(snapshot_of(*slot.worker));
      continue;
    }
    // A slot whose worker is still being spawned shows as empty, tried now.
    app.empty_slots.push_back({i, slot.last_exit, slot.crash_loop,
                               slot.queued || slot.worker ? std::optional<Duration>(Duration{0})
                                                          : time_until(slot.next_try, now)});
  }
  // A worker with no process yet is not listed (see App::workers()).
  auto add = [&](const Worker& w) {
    if (!launching(w)) app.workers.push_back(snapshot_of(w));
  };
  if (reload_)
    for (auto& [instance, w] : reload_->candidates) add(*w);
  for (auto& w : leaving_) add(*w);
  if (state_ == AppState::failed) app.retry_in = time_until(retry_at_, now);
  app.counters = counters_;
  app.pending = pending();
  if (config_.relay) app.relay = RelaySnapshot{relay_.relayed(), relay_.dropped()};
  app.affinity = config_.affinity;
  app.output_errors = output_->file_errors();
  if (config_.protocol == config::Protocol::node) {
    OnDemandSnapshot on_demand;
    on_demand.sockets = context_.on_demand.count(name());
    for (std::size_t i = 0; i < std::size(OnDemandSockets::kRefusals); ++i)
      on_demand.refused[i] = context_.on_demand.refused(name(), OnDemandSockets::kRefusals[i]);
    app.on_demand = on_demand;
  }
  return app;
}

}  // namespace muster::daemon
