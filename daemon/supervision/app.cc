#include "daemon/supervision/app.h"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/post.hpp>
#include <new>
#include <random>

#include "daemon/common/events.h"
#include "daemon/common/memory_reserve.h"
#include "daemon/network/listen_socket.h"
#include "daemon/network/on_demand.h"

namespace muster::daemon {
namespace {

// A sample in [0, 1) for restart jitter; the seed does not matter, only that
// slots differ.
double jitter_sample() {
  static std::minstd_rand random{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(random);
}

}  // namespace

// Handed to the launcher, not answered yet: no process (App::workers()).
bool launching(const Worker& w) { return w.state() == WorkerState::spawning && w.pid() == 0; }

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
    : io_(io),
      context_(context),
      config_(std::move(config)),
      next_id_(std::move(next_id)),
      failed_timer_(io),
      usage_timer_(io),
      output_(std::make_shared<OutputSink>(config_, context_.events)) {
  context_.on_demand.configure(config_);
  watch_usage();
  for (unsigned i = 0; i < config_.instances; ++i)
    slots_.push_back(std::make_unique<Slot>(io_, config_));
}

void App::start(ReloadDone done) {
  if (stopping()) {
    // The stop's waiters are answered when its workers are gone; starting now
    // would leave them unanswered or restart what the operator stopped.
    if (done) done(Error{"app '" + name() + "' is stopping; start it again once it has stopped"});
    return;
  }
  if (!wanted_up()) spdlog::info("{}: starting {} instance(s)", name(), slots_.size());
  if (!reload_) state_ = AppState::running;
  failed_timer_.cancel();
  retry_at_.reset();
  for (unsigned i = 0; i < slots_.size(); ++i) {
    auto& slot = *slots_[i];
    slot.crashes.reset();
    slot.crash_loop = false;
    if (slot.worker) continue;
    slot.restart_timer.cancel();
    slot.backoff.reset();
    slot.next_try.reset();
    queue_spawn(i);
  }
  if (done) {
    if (!start_wait_) start_wait_ = std::make_unique<StartWait>(io_);
    start_wait_->waiters.push_back(std::move(done));
    check_started();
  }
}

void App::stop(Done done) {
  if (state_ != AppState::stopped) spdlog::info("{}: stopping", name());
  ++stops_;
  if (reload_) finish_reload(Error{"the app was stopped"});
  fail_start("the app was stopped");
  state_ = AppState::stopped;
  failed_timer_.cancel();
  retry_at_.reset();
  spawn_queue_.clear();
  if (done) stop_waiters_.push_back(std::move(done));
  for (auto& slot : slots_) {
    slot->restart_timer.cancel();
    slot->next_try.reset();
    slot->queued = false;
    if (slot->worker) slot->worker->stop();
  }
  for (auto& w : leaving_) w->stop();
  if (context_.start_order_changed) context_.start_order_changed();
  notify_if_stopped();
}

void App::reset_history() {
  spdlog::info("{}: restart counts and crash history reset", name());
  for (auto& slot : slots_) {
    slot->restarts = 0;
    slot->crashes.reset();
    slot->backoff.reset();
  }
  for (Worker* worker : workers()) worker->reset_restarts();  // leaving ones too
}

void App::scale(unsigned instances) {
  spdlog::info("{}: scaling from {} to {} instance(s)", name(), slots_.size(), instances);
  config_.instances = instances;
  resize_round_robins(instances);
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
    if (wanted_up()) queue_spawn(static_cast<unsigned>(slots_.size() - 1));
  }
  check_started();
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

// A worker whose spawn the launcher has not answered yet (daemon/launch/spawner.h)
// has no process to show or signal: it is not listed, as a slot waiting in
// the spawn queue is not.
std::vector<Worker*> App::workers() {
  std::vector<Worker*> out;
  auto add = [&](Worker* w) {
    if (w && !launching(*w)) out.push_back(w);
  };
  for (auto& slot : slots_) add(slot->worker.get());
  if (reload_)
    for (auto& [instance, w] : reload_->candidates) add(w.get());
  for (auto& w : leaving_) add(w.get());
  return out;
}

bool App::has_live_workers() const {
  return !leaving_.empty() || (reload_ && !reload_->candidates.empty()) ||
         std::any_of(slots_.begin(), slots_.end(), [](auto& s) { return s->worker != nullptr; });
}

void App::retire(std::shared_ptr<Worker> worker) {
  if (!worker) return;
  worker->stop();
  leaving_.push_back(std::move(worker));
}

// inspect: the worker that took `gone`'s slot in a rolling reload started
// while `gone` held the slot's inspector port, so Node could not open it then.
void App::reopen_inspector(const Worker& gone) {
  unsigned instance = gone.identity().instance;
  if (gone.inspector().empty() || instance >= slots_.size()) return;
  Worker* now = slots_[instance]->worker.get();
  if (now && now != &gone && now->inspector() == gone.inspector()) now->open_inspector();
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
      if (slot < slots_.size())
        slots_[slot]->exits.record(ExitRecord::of(info, worker.identity().id, worker.pid()));
      finish_reload(Error{"the new worker for slot " + std::to_string(slot) + " " +
                          info.describe() + " before it was ready"});
      return;
    }
  }
  auto leaving =
      std::find_if(leaving_.begin(), leaving_.end(), [&](auto& w) { return w.get() == &worker; });
  if (leaving != leaving_.end()) {
    reopen_inspector(worker);
    leaving_.erase(leaving);
    context_.sockets.sweep_retired();  // a retired socket's last user may be gone
    notify_if_stopped();
    return;
  }
  unsigned instance = worker.identity().instance;
  if (instance >= slots_.size() || slots_[instance]->worker.get() != &worker) return;
  auto keep_alive = std::move(slots_[instance]->worker);  // the slot is empty from here
  slots_[instance]->last_exit = info.describe();
  slots_[instance]->exits.record(ExitRecord::of(info, worker.identity().id, worker.pid()));
  if (!wanted_up()) {
    notify_if_stopped();
    return;
  }
  if (!info.voluntary && start_wait_ && !worker.ready())
    fail_start("slot " + std::to_string(instance) + ": the worker " + info.describe() +
               " before it was ready");
  else if (!info.voluntary && start_wait_ && start_wait_->settling)
    fail_start("slot " + std::to_string(instance) + ": the worker " + info.describe() +
               " right after it started");
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
    // Asked for (kill/disconnect) or its own disconnect: refill at once, not a crash.
    queue_spawn(instance);
    return;
  }
  // A clean exit (process.exit(0) without a disconnect) is no crash: it is
  // neither counted nor a step toward a crash loop. The backoff still spaces
  // out workers that keep exiting young, so one that exits at once does not spin.
  bool crash = !info.clean();
  if (crash) {
    ++counters_.restarts;
    ++slot.restarts;
    if (slot.crashes.record(Clock::now())) {
      park_slot(instance);
      return;
    }
  }
  Duration backoff = slot.backoff.on_crash(info.uptime);
  Duration delay = jittered(backoff, config_.restart_delay_max, jitter_sample());
  spdlog::info("{}: restarting slot {} in {}ms ({} {})", name(), instance, delay.count(),
               crash ? "consecutive crash" : "clean exit, consecutive short life",
               slot.backoff.consecutive());
  context_.events.publish("restart", name(),
                          {{"instance", instance},
                           {"delay_ms", delay.count()},
                           {"backoff_ms", backoff.count()},
                           {"reason", info.describe()},
                           {"crash", crash}});
  arm_slot_timer(instance, delay, &App::queue_spawn);
}

// After `delay`, `then(instance)` — unless the timer was cancelled, the app
// no longer wants workers, or the slot was removed or filled meanwhile.
void App::arm_slot_timer(unsigned instance, Duration delay, void (App::*then)(unsigned)) {
  auto& slot = *slots_[instance];
  slot.next_try = Clock::now() + delay;
  slot.restart_timer.expires_after(delay);
  slot.restart_timer.async_wait(
      [this, instance, then, timer = &slot.restart_timer,
       alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
        if (ec || !alive.lock() || !wanted_up() || instance >= slots_.size() ||
            &slots_[instance]->restart_timer != timer || slots_[instance]->worker)
          return;
        (this->*then)(instance);
      });
}

// More than max_restarts crashes of this slot within restart_window: a crash
// loop. The slot waits failed_retry; if every slot is in a crash loop the
// whole app is failed.
void App::park_slot(unsigned instance) {
  auto& slot = *slots_[instance];
  slot.crash_loop = true;
  slot.next_try.reset();
  context_.events.publish("crash_loop", name(),
                          {{"instance", instance},
                           {"restarts", config_.max_restarts},
                           {"window_ms", config_.restart_window.count()},
                           {"last_exit", slot.last_exit}});
  if (nothing_left_to_try()) return mark_failed();
  spdlog::error("{}: slot {} crashed more than {} times within {}ms ({}); {}", name(), instance,
                config_.max_restarts, config_.restart_window.count(), slot.last_exit,
                config_.failed_retry.count() > 0
                    ? "trying it again in " + config::format_duration(config_.failed_retry)
                    : std::string("left empty until 'musterctl start " + name() + "'"));
  if (config_.failed_retry.count() > 0)
    arm_slot_timer(instance, config_.failed_retry, &App::retry_slot);
}

void App::retry_slot(unsigned instance) {
  auto& slot = *slots_[instance];
  spdlog::info("{}: slot {} was in a crash loop; trying it again", name(), instance);
  slot.crash_loop = false;
  slot.crashes.reset();
  slot.backoff.reset();
  queue_spawn(instance);
}

// No slot has a worker, a restart on its way or a spawn queued, and some are
// in a crash loop.
bool App::nothing_left_to_try() const {
  bool looping = false;
  for (const auto& slot : slots_) {
    if (slot->worker || slot->queued || (slot->next_try && !slot->crash_loop)) return false;
    looping = looping || slot->crash_loop;
  }
  return looping;
}

void App::mark_failed() {
  if (reload_) finish_reload(Error{"crash loop"});
  state_ = AppState::failed;
  ++counters_.failures;
  boost::json::array slots;
  for (unsigned i = 0; i < slots_.size(); ++i) {
    slots_[i]->restart_timer.cancel();
    slots_[i]->next_try.reset();
    slots.push_back({{"instance", i}, {"last_exit", slots_[i]->last_exit}});
  }
  bool retry = config_.failed_retry.count() > 0;
  retry_at_.reset();
  if (retry) retry_at_ = Clock::now() + config_.failed_retry;
  context_.events.publish("failed", name(),
                          {{"restarts", config_.max_restarts},
                           {"window_ms", config_.restart_window.count()},
                           {"retry_in_ms", retry ? boost::json::value(config_.failed_retry.count())
                                                 : boost::json::value(nullptr)},
                           {"slots", std::move(slots)}});
  spdlog::error(
      "{}: every slot crashed more than {} times within {}ms: crash loop, app marked "
      "failed; {}",
      name(), config_.max_restarts, config_.restart_window.count(),
      retry ? "it is started again in " + config::format_duration(config_.failed_retry)
            : "'musterctl start " + name() + "' resumes it");
  fail_start("every slot is in a crash loop (last exit: " + slots_.front()->last_exit + ")");
  if (context_.start_order_changed) context_.start_order_changed();
  if (retry) arm_failed_retry(config_.failed_retry);
}

void App::arm_failed_retry(Duration delay) {
  retry_at_ = Clock::now() + delay;
  failed_timer_.expires_after(delay);
  failed_timer_.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
        if (ec || !alive.lock() || state_ != AppState::failed) return;
        spdlog::info("{}: failed_retry ({}) has passed: starting the failed app again", name(),
                     config::format_duration(config_.failed_retry));
        context_.events.publish("retry", name(), {});
        start();
      });
}

void App::notify_if_stopped() {
  if (has_live_workers()) return;
  if (context_.start_order_changed) context_.start_order_changed();
  if (stop_waiters_.empty()) return;
  auto waiters = std::move(stop_waiters_);
  stop_waiters_.clear();
  for (auto& done : waiters) done();
}

}  // namespace muster::daemon
