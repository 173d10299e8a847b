// App: starting workers into slots, in batches that keep the loop answering
// (a start or scale of thousands), and what happens when one cannot start.
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <new>

#include "daemon/common/events.h"
#include "daemon/common/memory_reserve.h"
#include "daemon/supervision/app.h"

namespace muster::daemon {
namespace {

// Spawning per loop turn stops after this long (at least one spawn): a start
// or scale of thousands of workers answers control requests and hands off
// connections in between. A spawn no longer waits on the loop for its child
// to exec (that happens on the spawner's thread, daemon/launch/spawner.h); what is
// left per worker is preparing it: environment, pipes, channel, the spec
// (0.05-0.5 ms). Short, as a request waits up to a slice at each of its
// steps (accept, read, reply: each is a turn of the loop, and the next
// slice is queued before it): with 10 ms a ping during a start of 1000 took
// ~30 ms of the loop's CPU.
constexpr auto kSpawnSlice = std::chrono::milliseconds(2);

}  // namespace

std::shared_ptr<Worker> App::new_worker(WorkerIdentity who) {
  return std::make_shared<Worker>(
      io_, context_, config_, std::move(who), output_,
      [this, alive = std::weak_ptr<bool>(alive_)](Worker& w, const ExitInfo& info) {
        // A worker may outlive its app (its own completions hold it).
        if (alive.lock()) on_worker_exit(w, info);
      });
}

std::shared_ptr<Worker> App::make_worker(unsigned instance) {
  auto worker = new_worker({config_.name, next_id_(), instance, slots_[instance]->restarts});
  // ready = "auto": a worker of an app that serves (declared sockets, or
  // workers listening now) must listen too; only an app whose workers do not
  // listen gets the quiet rule (docs: `ready`).
  bool serving =
      !config_.sockets.empty() || std::any_of(slots_.begin(), slots_.end(), [](const auto& slot) {
        return slot->worker && slot->worker->state() == WorkerState::listening;
      });
  if (serving) worker->expect_listening();
  return worker;
}

void App::queue_spawn(unsigned instance) {
  auto& slot = *slots_[instance];
  if (slot.queued || slot.worker) return;
  slot.queued = true;
  slot.next_try.reset();
  spawn_queue_.push_back(instance);
  if (spawn_posted_) return;
  spawn_posted_ = true;
  boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.lock()) pump_spawns();
  });
}

void App::pump_spawns() {
  spawn_posted_ = false;
  const auto until = Clock::now() + kSpawnSlice;
  for (bool first = true; !spawn_queue_.empty() && (first || Clock::now() < until); first = false) {
    unsigned instance = spawn_queue_.front();
    spawn_queue_.pop_front();
    if (instance >= slots_.size() || !slots_[instance]->queued) continue;  // scaled away
    slots_[instance]->queued = false;
    if (!wanted_up() || slots_[instance]->worker) continue;
    try {
      spawn_into(instance);
    } catch (const std::bad_alloc& e) {
      cannot_spawn(instance, e.what(), true);
    } catch (const std::exception& e) {
      cannot_spawn(instance, e.what(), false);
    }
  }
  if (spawn_queue_.empty() || spawn_posted_) return;
  spawn_posted_ = true;
  boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.lock()) pump_spawns();
  });
}

void App::spawn_into(unsigned instance) {
  auto& slot = *slots_[instance];
  slot.worker = make_worker(instance);
  slot.next_try.reset();
  slot.worker->on_ready([this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.lock()) check_started();
  });
  slot.worker->start();
  // A refill while a reload-config's rolling reload runs has the new
  // settings: if that reload fails, this slot goes back to the previous
  // ones as the slots it replaced do.
  if (reload_ && rollback_) reload_->replaced_slots.push_back(instance);
}

// spawn_into() threw: the slot's start failed as a failed spawn does (a
// crash: backoff and crash-loop detection apply), and the other slots and apps
// go on. Out of memory while an operation waits for the app to come up (a
// start, a reload-config adding it) refuses that operation instead: the app is
// stopped, so that musterd does not go on spawning into exhausted memory, and
// the other apps keep running.
void App::cannot_spawn(unsigned instance, const char* what, bool out_of_memory) noexcept {
  if (out_of_memory) memory_reserve::release();  // room for what follows
  try {
    auto& slot = *slots_[instance];
    // Out of the slot first: its exit, if it got as far as a process, is then
    // no longer this slot's business.
    if (auto worker = std::move(slot.worker)) worker->kill_now();
    ExitInfo info;
    info.spawn_error =
        out_of_memory ? std::string("musterd is out of memory (") + what + ")" : std::string(what);
    ++counters_.exits;
    ++counters_.crashes;
    slot.last_exit = info.describe();
    slot.exits.record(ExitRecord::of(info, 0, 0));
    std::string why = "slot " + std::to_string(instance) + ": the worker " + info.describe();
    if (out_of_memory && start_wait_) {
      spdlog::error(
          "{}: {}; the start is refused and the app stopped (start it again once "
          "musterd has the memory)",
          name(), why);
      fail_start(why + "; the app was stopped");
      stop(nullptr);
      return;
    }
    spdlog::error("{}: {}", name(), why);
    fail_start(why);
    if (wanted_up()) schedule_restart(instance, info);
  } catch (const std::exception& e) {
    spdlog::error("{}: slot {} stays empty until the next start: {}", name(), instance, e.what());
  }
}

}  // namespace muster::daemon
