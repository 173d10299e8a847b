// An app: its config, its instance slots and the workers filling them, and the
// restart policy that refills slots. The wanted state (running / stopped) is
// kept apart from what the workers are doing; on_worker_exit() decides what an
// exit means for the slot.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "daemon/output/output_sink.h"
#include "daemon/supervision/exit_history.h"
#include "daemon/supervision/handover_records.h"
#include "daemon/supervision/relay.h"
#include "daemon/supervision/restart_policy.h"
#include "daemon/supervision/worker.h"

namespace muster::daemon {

enum class AppState { running, stopped, failed, reloading };
struct AppSnapshot;  // daemon/observe/snapshot.h
const char* to_string(AppState);

class App {
 public:
  using Done = std::function<void()>;
  using IdSource = std::function<unsigned()>;
  // Done, or why not (no errno behind it: the words for the waiting client).
  using ReloadDone = std::function<void(Result<void> result)>;

  App(boost::asio::io_context& io, WorkerContext& context, config::AppConfig config,
      IdSource next_id);

  const std::string& name() const { return config_.name; }
  AppState state() const { return state_; }
  // Workers should be running (a reload is running too).
  bool wanted_up() const { return state_ == AppState::running || state_ == AppState::reloading; }
  // How many times stop() was called: a restart that finds it changed after
  // its own stop knows a later stop came in (and wins).
  unsigned stops() const { return stops_; }
  // Asked to stop, and some workers have not exited yet.
  bool stopping() const { return state_ == AppState::stopped && has_live_workers(); }

  // Wants the app running: clears crash loops and a `failed` state and fills
  // every empty slot (in batches, between other work). `done`, if given, runs
  // once every slot has a ready worker (nullopt), or with the reason when a
  // slot's worker exits before it was ready, the app is stopped, or it fails.
  // With ready = "spawn" there is no readiness signal, so a worker must also
  // survive a short settle time (min(min_uptime, 1s)). Refused (done gets the
  // reason, nothing changes) while the app is stopping.
  void start(ReloadDone done = nullptr);
  // Wants the app stopped: every worker is stopped gracefully; `done` runs once
  // all of them have exited.
  void stop(Done done);
  // Changes the number of slots; removed slots' workers are stopped, new slots
  // are filled in batches.
  void scale(unsigned instances);
  // musterctl reset: every slot's restart count, crash window and backoff
  // start again from zero, as if no worker had crashed. It starts and stops
  // nothing: a slot parked in a crash loop, or a failed app, waits for
  // `start` or failed_retry as before, and a refill already waiting keeps its
  // delay. counters() are totals (Prometheus counters) and stay.
  void reset_history();
  // Rolling replacement of every worker: per slot, a new worker is started
  // and, once ready, the old one is stopped gracefully; at most reload_surge
  // new workers at a time. A new worker that dies or misses ready_timeout
  // stops the reload; the old workers keep serving. A reload already running
  // is joined.
  void reload(ReloadDone done);
  // Takes a new config for this app (config reload). Policy settings apply
  // at once; `instances` scales; with `rolling`, the workers are reloaded so
  // the worker-facing settings reach them. `done` runs when that is over:
  // if the rolling reload fails, the app goes back to the settings it had
  // (slots already replaced, and slots refilled with the new settings
  // meanwhile, are replaced again with them) and `done` gets the reason.
  void update_config(const config::AppConfig& config, bool rolling, ReloadDone done = nullptr);
  const config::AppConfig& config() const { return config_; }
  // Removed from the config, its workers still stopping: no longer found by name.
  void mark_removed() { removed_ = true; }
  bool removed() const { return removed_; }
  // Expires when the app is freed (a removed app, once its workers are gone):
  // completions that keep an App* check it first.
  std::weak_ptr<bool> lifetime() const { return alive_; }
  OutputSink& output() { return *output_; }
  std::shared_ptr<OutputSink> output_ptr() { return output_; }
  // Replaces one slot's worker gracefully (new one first, as in a reload).
  // `done` runs when the replacement is over (with any others running with
  // it, or the reload it joined), with the error if it failed. A slot already
  // queued or with a new worker on its way is not replaced twice: `done`
  // joins that replacement.
  void replace(unsigned instance, ReloadDone done = nullptr);
  // The worker `id` is a replacement not yet ready (it has no slot yet).
  bool is_candidate(unsigned id) const;
  // SIGKILL to every live worker (shutdown deadline).
  void kill_all();

  Worker* find_worker(unsigned id);
  // Every live worker, slot order first, then leaving ones.
  std::vector<Worker*> workers();
  // How often every worker's RSS and CPU are read from /proc (Worker::usage():
  // what status, /metrics and max_memory see).
  static constexpr Duration kUsageInterval = std::chrono::seconds(2);
  bool has_live_workers() const;
  // Plain values for status, /metrics and /readyz (app_snapshot.cc).
  AppSnapshot snapshot() const;

  // Totals since the app was created (Prometheus counters).
  struct Counters {
    std::uint64_t exits = 0;         // worker exits of every kind
    std::uint64_t crashes = 0;       // exits neither asked for nor clean
    std::uint64_t restarts = 0;      // slots refilled after a crash
    std::uint64_t reloads_done = 0;  // whole-app rolling reloads
    std::uint64_t reloads_failed = 0;
    std::uint64_t memory_replacements = 0;
    std::uint64_t exited_connections = 0;  // handed to workers that have exited
    std::uint64_t failures = 0;            // times the app was marked failed
  };
  const Counters& counters() const { return counters_; }
  // relay = true (daemon/supervision/relay.h): its workers' messages and its counters.
  Relay& relay() { return relay_; }
  const Relay& relay() const { return relay_; }
  std::size_t pending() const;
  // Upgrade in place (app_handover.cc; what is refused and why:
  // daemon/supervision/handover_records.h). Why this app cannot be handed
  // over now ("web is reloading", "web[3] is not ready yet"), or nullopt.
  std::optional<std::string> busy_for_handover() const;
  // The app written down, its workers apart (Worker::record()); only
  // meaningful when busy_for_handover() says nothing.
  AppRecord record() const;
  struct AdoptedWorker {
    WorkerRecord record;
    Worker::Adopted adopted;
  };
  // Makes this App, just constructed (stopped, no worker), the one `record`
  // describes: its state, scale, counters and slots' policy state; each of
  // `workers` adopted into its slot (Worker::adopt); a pending refill or
  // crash-loop retry armed for what was left of its delay, a failed app's
  // failed_retry too. Nothing is spawned. The error says what could not be
  // taken over; workers adopted by then are this App's (its destruction
  // would kill them: a musterd that cannot restore execs, it does not unwind).
  Result<void> adopt(const AppRecord& record, std::vector<AdoptedWorker> workers);

  // Its round-robin handles (declared sockets and on-demand ones).
  std::vector<RrHandle*> round_robins() const;
  void resize_round_robins(unsigned instances);  // app_snapshot.cc

 private:
  struct Slot {
    Slot(boost::asio::io_context& io, const config::AppConfig& c)
        : backoff(c.restart_delay, c.restart_delay_max, c.min_uptime),
          crashes(c.max_restarts, c.restart_window),
          restart_timer(io) {}
    std::shared_ptr<Worker> worker;
    Backoff backoff;
    CrashWindow crashes;
    Timer restart_timer;
    unsigned restarts = 0;
    // While the slot is empty: why (the last exit) and when it is tried next.
    std::string last_exit;
    ExitHistory exits;  // its workers' last exits (describe)
    std::optional<Clock::time_point> next_try;
    bool crash_loop = false;  // parked: more than max_restarts within restart_window
    bool queued = false;      // in spawn_queue_
  };

  void queue_spawn(unsigned instance);
  void pump_spawns();
  void spawn_into(unsigned instance);
  void cannot_spawn(unsigned instance, const char* what, bool out_of_memory) noexcept;
  std::shared_ptr<Worker> make_worker(unsigned instance);
  std::shared_ptr<Worker> new_worker(WorkerIdentity who);  // make_worker's, unstarted
  void apply_policy(const config::AppConfig& config);
  void pump_reload();
  void start_candidate(unsigned instance);
  void candidate_ready(unsigned instance, const std::shared_ptr<Worker>& worker);
  void finish_reload(Result<void> result);
  void retire(std::shared_ptr<Worker> worker);
  void reopen_inspector(const Worker& gone);
  void watch_usage();
  void sample_usage(std::size_t from);
  void check_memory();
  void on_worker_exit(Worker& worker, const ExitInfo& info);
  void schedule_restart(unsigned instance, const ExitInfo& info);
  void arm_slot_timer(unsigned instance, Duration delay, void (App::*then)(unsigned));
  void park_slot(unsigned instance);
  void retry_slot(unsigned instance);
  void mark_failed();
  void arm_failed_retry(Duration delay);
  bool nothing_left_to_try() const;
  void notify_if_stopped();
  // start(done) waiters (app_start_wait.cc).
  void check_started();
  void settle_started();
  void fail_start(const std::string& why);

  boost::asio::io_context& io_;
  WorkerContext& context_;
  config::AppConfig config_;
  IdSource next_id_;
  AppState state_ = AppState::stopped;
  std::vector<std::unique_ptr<Slot>> slots_;      // index = instance
  std::vector<std::shared_ptr<Worker>> leaving_;  // workers of removed slots
  Counters counters_;
  Relay relay_;
  std::vector<Done> stop_waiters_;
  struct Reload {
    std::deque<unsigned> queue;                              // slots still to replace
    std::map<unsigned, std::shared_ptr<Worker>> candidates;  // not yet ready
    std::vector<ReloadDone> waiters;
    std::vector<unsigned> replaced_slots;  // new worker took over, or refilled meanwhile
    unsigned replaced = 0;
    bool whole_app = true;  // a reload (events, state); false: single-slot replacements
  };
  std::optional<Reload> reload_;
  // The settings in force before update_config() started a rolling reload;
  // restored if that reload fails.
  std::optional<config::AppConfig> rollback_;
  // Slots to fill, spawned a time slice per loop turn so that a large start
  // or scale never holds the event loop.
  std::deque<unsigned> spawn_queue_;
  bool spawn_posted_ = false;
  struct StartWait {
    std::vector<ReloadDone> waiters;
    bool settling = false;  // every slot ready; ready = "spawn" workers must outlive a moment
    bool settled = false;
    Timer settle_timer;
    explicit StartWait(boost::asio::io_context& io) : settle_timer(io) {}
  };
  std::unique_ptr<StartWait> start_wait_;
  Timer failed_timer_;  // failed_retry
  std::optional<Clock::time_point> retry_at_;
  Timer usage_timer_;
  // The workers of the sampling round under way (App::watch_usage).
  std::vector<std::weak_ptr<Worker>> usage_round_;
  std::shared_ptr<OutputSink> output_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for posted work
  unsigned stops_ = 0;
  bool removed_ = false;
};

}  // namespace muster::daemon
