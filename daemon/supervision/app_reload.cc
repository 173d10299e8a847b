// App: rolling replacement of workers (reload, replace, max_memory) and
// config updates, which roll back to the settings in force when the rolling
// reload they start fails.
#include <spdlog/spdlog.h>
#include <algorithm>

#include "daemon/common/events.h"
#include "daemon/common/memory_reserve.h"
#include "daemon/network/listen_socket.h"
#include "daemon/network/on_demand.h"
#include "daemon/supervision/app.h"

namespace muster::daemon {

// The settings that are not worker-facing: they apply to running workers'
// slots at once (crash windows and backoffs start afresh).
void App::apply_policy(const config::AppConfig& config) {
  config_ = config;
  config_.instances = static_cast<unsigned>(slots_.size());
  output_->configure(config_);
  context_.on_demand.configure(config_);
  for (auto& slot : slots_) {
    slot->backoff = Backoff(config_.restart_delay, config_.restart_delay_max, config_.min_uptime);
    slot->crashes = CrashWindow(config_.max_restarts, config_.restart_window);
  }
}

void App::update_config(const config::AppConfig& config, bool rolling, ReloadDone done) {
  config::AppConfig before = config_;
  apply_policy(config);
  if (config.instances != slots_.size()) scale(config.instances);
  if (!rolling || !wanted_up()) {
    if (done) done({});
    return;
  }
  // A reload-config while another one's rolling reload runs: roll back, if
  // it comes to that, to what ran before the first.
  if (!rollback_) rollback_ = std::move(before);
  auto finished = [this, done = std::move(done),
                   alive = std::weak_ptr<bool>(alive_)](Result<void> result) {
    if (!alive.lock()) return;
    if (!result && rollback_) {
      auto previous = std::move(*rollback_);
      rollback_.reset();
      spdlog::error("{}: the new settings did not take ({}); back to the previous ones", name(),
                    result.error().message);
      unsigned wanted = previous.instances;
      apply_policy(previous);
      if (wanted != slots_.size()) scale(wanted);
    } else if (result) {
      rollback_.reset();
    }
    if (done) done(result);
  };
  // A reload already running has replaced some slots with the previous
  // config: those go round again.
  if (reload_ && reload_->whole_app) {
    for (unsigned i = 0; i < slots_.size(); ++i)
      if (!std::count(reload_->queue.begin(), reload_->queue.end(), i)) reload_->queue.push_back(i);
    reload_->waiters.push_back(std::move(finished));
    pump_reload();
  } else {
    reload(std::move(finished));
  }
}

void App::replace(unsigned instance, ReloadDone done) {
  if (!reload_) {
    reload_.emplace();
    reload_->whole_app = false;
  }
  if (done) reload_->waiters.push_back(std::move(done));
  bool under_way = reload_->candidates.count(instance) ||
                   std::count(reload_->queue.begin(), reload_->queue.end(), instance);
  if (under_way) return;  // a second replacement would only replace the first
  reload_->queue.push_back(instance);
  pump_reload();
}

bool App::is_candidate(unsigned id) const {
  if (!reload_) return false;
  for (auto& [instance, worker] : reload_->candidates)
    if (worker->identity().id == id) return true;
  return false;
}

void App::reload(ReloadDone done) {
  if (state_ == AppState::stopped || state_ == AppState::failed) {
    if (done) done(Error{"app '" + name() + "' is " + to_string(state_) + "; start it first"});
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
    try {
      start_candidate(instance);
    } catch (const std::exception& e) {
      memory_reserve::release_if_out_of_memory(e);
      // Out of memory, say: the replacement fails as if the new worker had
      // died before it was ready; the old workers keep serving.
      if (auto it = reload_->candidates.find(instance); it != reload_->candidates.end()) {
        auto worker = std::move(it->second);
        reload_->candidates.erase(it);
        worker->kill_now();
      }
      finish_reload(Error{"cannot start a new worker for slot " + std::to_string(instance) + ": " +
                          e.what()});
    }
  }
  if (reload_ && reload_->queue.empty() && reload_->candidates.empty()) finish_reload({});
}

void App::start_candidate(unsigned instance) {
  auto worker = make_worker(instance);
  reload_->candidates[instance] = worker;
  worker->on_ready(
      [this, instance, w = std::weak_ptr<Worker>(worker), alive = std::weak_ptr<bool>(alive_)] {
        auto worker = w.lock();
        if (worker && alive.lock()) candidate_ready(instance, worker);
      });
  worker->start();
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
    slot.next_try.reset();
    slot.crash_loop = false;
    if (slot.queued) {
      slot.queued = false;  // the candidate fills it; the queued spawn is skipped
    }
    retire(std::move(slot.worker));
    slot.worker = worker;
    reload_->replaced_slots.push_back(instance);
  } else {
    retire(worker);
  }
  ++reload_->replaced;
  pump_reload();
  check_started();
}

void App::finish_reload(Result<void> result) {
  if (!reload_) return;
  context_.sockets.sweep_retired();
  Reload done = std::move(*reload_);
  reload_.reset();
  for (auto& [instance, worker] : done.candidates) retire(worker);
  if (state_ == AppState::reloading) state_ = AppState::running;
  if (!done.whole_app) {
    if (!result) spdlog::error("{}: replacing a worker failed: {}", name(), result.error().message);
    for (auto& waiter : done.waiters) waiter(result);
    return;
  }
  boost::json::object e{{"phase", result ? "done" : "failed"}, {"replaced", done.replaced}};
  if (!result) {
    e["reason"] = result.error().message;
    spdlog::error("{}: reload failed after {} worker(s): {}; the others keep serving", name(),
                  done.replaced, result.error().message);
  } else {
    spdlog::info("{}: reload done, {} worker(s) replaced", name(), done.replaced);
  }
  ++(result ? counters_.reloads_done : counters_.reloads_failed);
  context_.events.publish("reload", name(), std::move(e));
  bool rolling_back = !result && rollback_;
  for (auto& waiter : done.waiters) waiter(result);
  // The waiters restored the previous settings: the slots that took a worker
  // with the failed ones get one with the restored settings (new one first).
  if (rolling_back && wanted_up())
    for (unsigned instance : done.replaced_slots)
      if (instance < slots_.size()) replace(instance);
}

}  // namespace muster::daemon
