#include "daemon/app.h"

#include <algorithm>
#include <spdlog/spdlog.h>

#include "daemon/events.h"
#include "daemon/listen_socket.h"
#include "daemon/proc_stats.h"
#include "daemon/rr_handle.h"

namespace muster::daemon {

const char* to_string(AppState s) {
  switch (s) {
    case AppState::running: return "running";
    case AppState::stopped: return "stopped";
    case AppState::failed: return "failed";
    case AppState::reloading: return "reloading";
  }
  return "?";
}

App::App(boost::asio::io_context& io, WorkerContext& context, config::AppConfig config,
         IdSource next_id)
    : io_(io), context_(context), config_(std::move(config)), next_id_(std::move(next_id)),
      crashes_(config_.max_restarts, config_.restart_window), memory_timer_(io),
      output_(std::make_shared<OutputSink>(config_)) {
  watch_memory();
  for (unsigned i = 0; i < config_.instances; ++i)
    slots_.push_back(std::make_unique<Slot>(io_, config_));
}

void App::start() {
  if (!wanted_up()) spdlog::info("{}: starting {} instance(s)", name(), slots_.size());
  if (!reload_) state_ = AppState::running;
  crashes_.reset();
  for (unsigned i = 0; i < slots_.size(); ++i) {
    auto& slot = *slots_[i];
    if (slot.worker) continue;
    slot.restart_timer.cancel();
    slot.backoff.reset();
    spawn_into(i);
  }
}

void App::stop(Done done) {
  if (state_ != AppState::stopped) spdlog::info("{}: stopping", name());
  if (reload_) finish_reload("the app was stopped");
  state_ = AppState::stopped;
  if (done) stop_waiters_.push_back(std::move(done));
  for (auto& slot : slots_) {
    slot->restart_timer.cancel();
    if (slot->worker) slot->worker->stop();
  }
  for (auto& w : leaving_) w->stop();
  notify_if_stopped();
}

void App::scale(unsigned instances) {
  spdlog::info("{}: scaling from {} to {} instance(s)", name(), slots_.size(), instances);
  config_.instances = instances;
  while (slots_.size() > instances) {
    auto& slot = *slots_.back();
    slot.restart_timer.cancel();
    if (slot.worker) {
      leaving_.push_back(slot.worker);
      slot.worker->stop();
    }
    for (const auto& name : config_.sockets)
      if (config_.scheduling == config::Scheduling::reuseport)
        context_.sockets.release_slot(name, static_cast<unsigned>(slots_.size() - 1));
    slots_.pop_back();
  }
  while (slots_.size() < instances) {
    slots_.push_back(std::make_unique<Slot>(io_, config_));
    if (wanted_up()) spawn_into(slots_.size() - 1);
  }
}

void App::update_config(const config::AppConfig& config, bool rolling) {
  unsigned instances = config.instances;
  config_ = config;
  config_.instances = static_cast<unsigned>(slots_.size());
  output_->configure(config_);
  crashes_ = CrashWindow(config_.max_restarts, config_.restart_window);
  for (auto& slot : slots_)
    slot->backoff = Backoff(config_.restart_delay, config_.restart_delay_max, config_.min_uptime);
  if (instances != slots_.size()) scale(instances);
  if (rolling && wanted_up()) {
    // A reload already running has replaced some slots with the previous
    // config: those go round again.
    if (reload_ && reload_->whole_app) {
      for (unsigned i = 0; i < slots_.size(); ++i)
        if (!std::count(reload_->queue.begin(), reload_->queue.end(), i))
          reload_->queue.push_back(i);
      pump_reload();
    } else {
      reload(nullptr);
    }
  }
}

void App::kill_all() {
  for (auto& slot : slots_)
    if (slot->worker) slot->worker->kill_now();
  if (reload_)
    for (auto& [instance, w] : reload_->candidates) w->kill_now();
  for (auto& w : leaving_) w->kill_now();
}

Worker* App::find_worker(unsigned id) {
  if (reload_)
    for (auto& [instance, w] : reload_->candidates)
      if (w->identity().id == id) return w.get();
  for (auto& slot : slots_)
    if (slot->worker && slot->worker->identity().id == id) return slot->worker.get();
  for (auto& w : leaving_)
    if (w->identity().id == id) return w.get();
  return nullptr;
}

std::vector<Worker*> App::workers() {
  std::vector<Worker*> out;
  for (auto& slot : slots_)
    if (slot->worker) out.push_back(slot->worker.get());
  if (reload_)
    for (auto& [instance, w] : reload_->candidates) out.push_back(w.get());
  for (auto& w : leaving_) out.push_back(w.get());
  return out;
}

bool App::has_live_workers() const {
  return !leaving_.empty() || (reload_ && !reload_->candidates.empty()) ||
         std::any_of(slots_.begin(), slots_.end(), [](auto& s) { return s->worker != nullptr; });
}

std::shared_ptr<Worker> App::make_worker(unsigned instance) {
  WorkerIdentity who{config_.name, next_id_(), instance, slots_[instance]->restarts};
  return std::make_shared<Worker>(io_, context_, config_, who, output_,
                                  [this](Worker& w, const ExitInfo& info) { on_worker_exit(w, info); });
}

void App::spawn_into(unsigned instance) {
  auto& slot = *slots_[instance];
  slot.worker = make_worker(instance);
  slot.worker->start();
}

void App::retire(std::shared_ptr<Worker> worker) {
  if (!worker) return;
  worker->stop();
  leaving_.push_back(std::move(worker));
}

// max_memory: RSS is sampled every 2 s (cheap: one /proc read per worker);
// a worker above the limit is replaced new-worker-first, like a reload.
void App::watch_memory() {
  memory_timer_.expires_after(std::chrono::seconds(2));
  memory_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    if (config_.max_memory > 0 && wanted_up()) {
      for (unsigned i = 0; i < slots_.size(); ++i) {
        Worker* w = slots_[i]->worker.get();
        if (!w || w->state() == WorkerState::disconnecting) continue;
        std::uint64_t rss = resident_bytes(w->pid());
        if (rss <= config_.max_memory) continue;
        bool pending = reload_ && (reload_->candidates.count(i) ||
                                   std::count(reload_->queue.begin(), reload_->queue.end(), i));
        if (pending) continue;
        spdlog::warn("{}[{}] uses {} bytes, over max_memory {}: replacing it", name(),
                     w->identity().id, rss, config_.max_memory);
        context_.events.publish("memory", name(), {{"id", w->identity().id}, {"pid", w->pid()},
                                                   {"rss_bytes", rss},
                                                   {"max_memory", config_.max_memory}});
        ++counters_.memory_replacements;
        replace(i);
      }
    }
    watch_memory();
  });
}

void App::replace(unsigned instance) {
  if (!reload_) {
    reload_.emplace();
    reload_->whole_app = false;
  }
  reload_->queue.push_back(instance);
  pump_reload();
}

void App::reload(ReloadDone done) {
  if (state_ == AppState::stopped || state_ == AppState::failed) {
    if (done) done("app '" + name() + "' is " + to_string(state_) + "; start it first");
    return;
  }
  if (reload_ && reload_->whole_app) {
    if (done) reload_->waiters.push_back(std::move(done));
    return;
  }
  if (!reload_) reload_.emplace();
  reload_->whole_app = true;
  if (done) reload_->waiters.push_back(std::move(done));
  for (unsigned i = 0; i < slots_.size(); ++i)
    if (!reload_->candidates.count(i) &&
        !std::count(reload_->queue.begin(), reload_->queue.end(), i))
      reload_->queue.push_back(i);
  state_ = AppState::reloading;
  spdlog::info("{}: rolling reload of {} worker(s), {} at a time", name(), slots_.size(),
               config_.reload_surge);
  context_.events.publish("reload", name(), {{"phase", "start"}, {"instances", slots_.size()}});
  pump_reload();
}

void App::pump_reload() {
  while (reload_ && reload_->candidates.size() < config_.reload_surge && !reload_->queue.empty()) {
    // The first queued slot without a new worker already on its way.
    auto next = std::find_if(reload_->queue.begin(), reload_->queue.end(),
                             [&](unsigned i) { return !reload_->candidates.count(i); });
    if (next == reload_->queue.end()) break;
    unsigned instance = *next;
    reload_->queue.erase(next);
    if (instance >= slots_.size()) continue;  // scaled away meanwhile
    auto worker = make_worker(instance);
    reload_->candidates[instance] = worker;
    worker->on_ready([this, instance, w = std::weak_ptr<Worker>(worker)] {
      if (auto worker = w.lock()) candidate_ready(instance, worker);
    });
    worker->start();
  }
  if (reload_ && reload_->queue.empty() && reload_->candidates.empty()) finish_reload(std::nullopt);
}

// The new worker is ready: it takes the slot and the old one leaves.
void App::candidate_ready(unsigned instance, const std::shared_ptr<Worker>& worker) {
  if (!reload_) return;
  auto it = reload_->candidates.find(instance);
  if (it == reload_->candidates.end() || it->second != worker) return;
  reload_->candidates.erase(it);
  if (instance < slots_.size()) {
    auto& slot = *slots_[instance];
    slot.restart_timer.cancel();
    retire(std::move(slot.worker));
    slot.worker = worker;
  } else {
    retire(worker);
  }
  ++reload_->replaced;
  pump_reload();
}

void App::finish_reload(std::optional<std::string> error) {
  if (!reload_) return;
  context_.sockets.sweep_retired();
  Reload done = std::move(*reload_);
  reload_.reset();
  for (auto& [instance, worker] : done.candidates) retire(worker);
  if (state_ == AppState::reloading) state_ = AppState::running;
  if (!done.whole_app) {
    if (error) spdlog::error("{}: replacing a worker failed: {}", name(), *error);
    return;
  }
  boost::json::object e{{"phase", error ? "failed" : "done"}, {"replaced", done.replaced}};
  if (error) {
    e["reason"] = *error;
    spdlog::error("{}: reload failed after {} worker(s): {}; the others keep serving", name(),
                  done.replaced, *error);
  } else {
    spdlog::info("{}: reload done, {} worker(s) replaced", name(), done.replaced);
  }
  ++(error ? counters_.reloads_failed : counters_.reloads_done);
  context_.events.publish("reload", name(), std::move(e));
  for (auto& waiter : done.waiters) waiter(error);
}

void App::on_worker_exit(Worker& worker, const ExitInfo& info) {
  ++counters_.exits;
  if (!info.voluntary && !info.clean()) ++counters_.crashes;
  counters_.exited_connections += worker.connections();
  if (reload_) {
    for (auto& [instance, candidate] : reload_->candidates) {
      if (candidate.get() != &worker) continue;
      // Copies: erase() frees the map node these bindings refer to.
      unsigned slot = instance;
      auto keep_alive = candidate;
      reload_->candidates.erase(slot);
      finish_reload("the new worker for slot " + std::to_string(slot) + " " +
                    info.describe() + " before it was ready");
      return;
    }
  }
  auto leaving = std::find_if(leaving_.begin(), leaving_.end(),
                              [&](auto& w) { return w.get() == &worker; });
  if (leaving != leaving_.end()) {
    leaving_.erase(leaving);
    context_.sockets.sweep_retired();  // a retired socket's last user may be gone
    notify_if_stopped();
    return;
  }
  unsigned instance = worker.identity().instance;
  if (instance >= slots_.size() || slots_[instance]->worker.get() != &worker) return;
  auto keep_alive = std::move(slots_[instance]->worker);  // the slot is empty from here
  if (!wanted_up()) {
    notify_if_stopped();
    return;
  }
  if (!should_restart(config_.restart, info.voluntary, info.clean())) {
    spdlog::info("{}: slot {} stays empty (restart = {})", name(), instance,
                 config::to_string(config_.restart));
    return;
  }
  schedule_restart(instance, info);
}

void App::schedule_restart(unsigned instance, const ExitInfo& info) {
  auto& slot = *slots_[instance];
  if (info.voluntary) {
    // Asked for (kill/disconnect): refill at once, not a crash.
    spawn_into(instance);
    return;
  }
  ++counters_.restarts;
  ++slot.restarts;
  if (crashes_.record(Clock::now())) {
    if (reload_) finish_reload("crash loop");
    state_ = AppState::failed;
    context_.events.publish("failed", name(), {{"restarts", config_.max_restarts},
                                               {"window_ms", config_.restart_window.count()}});
    spdlog::error("{}: more than {} restarts within {}ms: crash loop, app marked failed; "
                  "'musterctl start {}' resumes it",
                  name(), config_.max_restarts, config_.restart_window.count(), name());
    return;
  }
  Duration delay = slot.backoff.on_crash(info.uptime);
  spdlog::info("{}: restarting slot {} in {}ms (consecutive crash {})", name(), instance,
               delay.count(), slot.backoff.consecutive());
  context_.events.publish("restart", name(), {{"instance", instance},
                                              {"delay_ms", delay.count()},
                                              {"reason", info.describe()}});
  slot.restart_timer.expires_after(delay);
  slot.restart_timer.async_wait([this, instance, timer = &slot.restart_timer](
                                    boost::system::error_code ec) {
    // A cancelled timer, or one whose slot was removed meanwhile, does nothing.
    if (ec || !wanted_up() || instance >= slots_.size() ||
        &slots_[instance]->restart_timer != timer || slots_[instance]->worker)
      return;
    spawn_into(instance);
  });
}

void App::notify_if_stopped() {
  if (has_live_workers() || stop_waiters_.empty()) return;
  auto waiters = std::move(stop_waiters_);
  stop_waiters_.clear();
  for (auto& done : waiters) done();
}

// Connections held for this app's round-robin sockets, declared or on demand.
std::size_t App::pending() const {
  std::size_t n = 0;
  for (auto& s : context_.sockets.all())
    if (RrHandle* rr = s->round_robin_if_any(); rr && rr->app() == name()) n += rr->pending();
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
    o["rss_bytes"] = resident_bytes(w.pid());
    o["ready"] = w.ready();
    if (!w.status_text().empty()) o["status"] = w.status_text();
    workers.push_back(std::move(o));
  };
  for (auto& slot : slots_)
    if (slot->worker) add(*slot->worker);
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
  app["workers"] = std::move(workers);
  return app;
}

}  // namespace muster::daemon
