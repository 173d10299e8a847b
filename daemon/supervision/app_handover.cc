// App: an upgrade in place (issue 25). The musterd that execs writes each app
// down (record()); the new one rebuilds it (adopt()) with its slots' restart
// policy where it was, so a crash after the upgrade is judged as it would
// have been before. What the records hold and which states are refused:
// handover_records.h.
#include <spdlog/spdlog.h>

#include "daemon/supervision/app.h"

namespace muster::daemon {
namespace {

std::optional<AppState> stable_state(const std::string& name) {
  for (auto s : {AppState::running, AppState::stopped, AppState::failed})
    if (name == to_string(s)) return s;
  return std::nullopt;  // "reloading" is refused before it is written
}

ExitEntry entry_of(const ExitRecord& e) {
  return {e.time, e.id, e.pid, e.code, e.signal, e.voluntary, e.uptime.count(), e.description};
}

ExitRecord exit_of(const ExitEntry& e) {
  return {e.time, e.id, e.pid, e.code, e.signal, e.voluntary, Duration{e.uptime_ms}, e.description};
}

}  // namespace

std::optional<std::string> App::busy_for_handover() const {
  // Each of these waits for a worker's readiness or exit, or a client for
  // its answer: nothing a record can carry.
  if (state_ == AppState::reloading || reload_) return name() + " is reloading";
  if (stopping()) return name() + " is stopping";
  if (!leaving_.empty()) return name() + " has workers leaving";
  if (!spawn_queue_.empty()) return name() + " has workers waiting to be started";
  if (start_wait_) return name() + " is starting";
  for (const auto& slot : slots_)
    if (slot->worker)
      if (auto why = slot->worker->busy_for_handover()) return why;
  return std::nullopt;
}

AppRecord App::record() const {
  const auto now = Clock::now();
  AppRecord r;
  r.name = name();
  r.state = to_string(state_);
  r.instances = static_cast<unsigned>(slots_.size());
  r.exits = counters_.exits;
  r.crashes = counters_.crashes;
  r.restarts = counters_.restarts;
  r.reloads_done = counters_.reloads_done;
  r.reloads_failed = counters_.reloads_failed;
  r.memory_replacements = counters_.memory_replacements;
  r.exited_connections = counters_.exited_connections;
  r.failures = counters_.failures;
  if (state_ == AppState::failed && retry_at_)
    r.retry_ms = time_left<Duration>(*retry_at_, now).count();
  for (const auto& slot : slots_) {
    SlotRecord s;
    s.restarts = slot->restarts;
    s.backoff = slot->backoff.consecutive();
    for (Duration age : slot->crashes.ages(now)) s.crash_ages.push_back(age.count());
    s.crash_loop = slot->crash_loop;
    s.last_exit = slot->last_exit;
    if (slot->next_try && !slot->worker)
      s.next_try_ms = time_left<Duration>(*slot->next_try, now).count();
    for (const auto& e : slot->exits.recent()) s.exits.push_back(entry_of(e));
    r.slots.push_back(std::move(s));
  }
  return r;
}

Result<void> App::adopt(const AppRecord& r, std::vector<AdoptedWorker> workers) {
  const std::string what = "app record of " + name() + ": ";
  if (wanted_up() || has_live_workers()) return Error{what + "the app is not a fresh one"};
  auto state = stable_state(r.state);
  if (!state) return Error{what + "'" + r.state + "' is no state an app is handed over in"};
  if (r.slots.size() != r.instances) return Error{what + "'slots' does not match 'instances'"};
  if (r.instances != slots_.size()) {
    config_.instances = r.instances;
    resize_round_robins(r.instances);
  }
  const auto now = Clock::now();
  slots_.clear();
  for (const SlotRecord& s : r.slots) {
    auto slot = std::make_unique<Slot>(io_, config_);
    slot->restarts = s.restarts;
    slot->backoff.restore(s.backoff);
    std::vector<Duration> ages;
    for (auto age : s.crash_ages) ages.emplace_back(age);
    slot->crashes.restore(ages, now);
    slot->crash_loop = s.crash_loop;
    slot->last_exit = s.last_exit;
    for (const auto& e : s.exits) slot->exits.record(exit_of(e));
    slots_.push_back(std::move(slot));
  }
  counters_ = {r.exits,
               r.crashes,
               r.restarts,
               r.reloads_done,
               r.reloads_failed,
               r.memory_replacements,
               r.exited_connections,
               r.failures};
  state_ = *state;
  for (auto& w : workers) {
    unsigned i = w.record.instance;
    if (i >= slots_.size() || slots_[i]->worker)
      return Error{what + "no free slot " + std::to_string(i) + " for worker " +
                   std::to_string(w.record.id)};
    auto worker = new_worker({config_.name, w.record.id, i, w.record.restarts});
    if (auto done = worker->adopt(w.record, std::move(w.adopted)); !done) return done;
    slots_[i]->worker = std::move(worker);
  }
  for (unsigned i = 0; i < slots_.size(); ++i) {
    const auto& delay = r.slots[i].next_try_ms;
    if (!delay || slots_[i]->worker || !wanted_up()) continue;
    arm_slot_timer(i, Duration{*delay},
                   slots_[i]->crash_loop ? &App::retry_slot : &App::queue_spawn);
  }
  if (state_ == AppState::failed && r.retry_ms) arm_failed_retry(Duration{*r.retry_ms});
  spdlog::info("{}: taken over, {} worker(s), {}", name(), workers.size(), r.state);
  return {};
}

}  // namespace muster::daemon
