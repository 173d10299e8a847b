// A worker's life as a pure function: decide(life, event, facts) returns the
// next life and the actions Worker::on() then carries out (worker_actions.cc).
// Every (state, event) cell is decided in one table (worker_decide.cc), a
// no-op included, as s6's supervisor decides every cell of its own; nothing
// else writes the life. Whether an exit is a crash is decided at the exit,
// from who asked the worker to go and which signal ended it.
#pragma once

#include <signal.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "config/config.h"
#include "daemon/supervision/restart_policy.h"

namespace muster::daemon {

enum class WorkerState { spawning, online, listening, disconnecting, dead };
const char* to_string(WorkerState);
constexpr std::size_t kWorkerStates = 5;

enum class WorkerEvent {
  spawned,
  spawn_failed,
  online,
  listening,
  notified_ready,  // channel "online"/"listening", READY=1
  stopping,        // STOPPING=1
  stop,            // the daemon or an operator asks it to go
  channel_closed,
  channel_broken,  // the Node channel closed, cleanly or not
  stop_timeout,
  ready_timeout,
  watchdog_timeout,
  exited,
  // Node protocol: the worker asked for a server (queryServer), closed its
  // last one, or reported its own disconnect done (exitedAfterDisconnect).
  server_requested,
  servers_closed,
  left_on_its_own,
  quiet,            // ready = "auto": online this long without asking for a server
  drain_timeout,    // its own disconnect took longer than drain_timeout
  kill,             // SIGKILL now (the shutdown deadline): no verdict of its own
  operator_signal,  // `musterctl kill` sent it facts.signo
  extend_timeout,   // EXTEND_TIMEOUT_USEC=
  watchdog_kept,    // WATCHDOG=1
};
const char* to_string(WorkerEvent);
constexpr std::size_t kWorkerEvents = 22;

// What the table decides and nobody else writes.
struct WorkerLife {
  WorkerState state = WorkerState::spawning;
  bool ready = false;             // ready per the app's `ready`
  bool asked_server = false;      // Node: it asked for a server at least once
  bool draining = false;          // the drain timer runs
  bool after_disconnect = false;  // Node's worker.exitedAfterDisconnect
  // Who asked it to go: what its exit is judged by.
  bool stop_asked = false;           // the daemon or an operator (stop, disconnect)
  bool signal_on_close = false;      // stop(): stop_signal when the channel closes
  bool left_on_its_own = false;      // its own disconnect (exitedAfterDisconnect)
  bool drain_ended = false;          // we ended its drain at drain_timeout
  bool forced = false;               // we killed it for misbehaving: a crash
  const char* reason = nullptr;      // why we killed it (the first reason)
  OperatorSignals operator_signals;  // what `musterctl kill` sent this life
  bool voluntary = false;            // the verdict, decided at `exited`

  bool operator==(const WorkerLife&) const = default;
};

// What the decision needs to know besides the life: the app's settings and
// what the event carries.
struct WorkerFacts {
  config::Ready ready_mode = config::Ready::automatic;
  bool must_listen = false;    // Worker::expect_listening()
  bool has_channel = false;    // a Node channel, open
  bool drain_timeout = false;  // the app sets drain_timeout
  bool watchdog = false;       // the app sets watchdog
  // stop(): Node's worker.kill(), stop_signal once the channel has closed;
  // disconnect() (Node's worker.disconnect()) sends no signal.
  bool signal_after_disconnect = false;
  std::optional<int> exit_signal;  // exited: the signal that killed it, if one did
  Clock::time_point now{};
  int signo = 0;  // operator_signal: what was sent
  int stop_signal = SIGTERM;
  Duration stop_timeout{0};
  // extend_timeout: by how much (the table only picks which deadline).
  std::chrono::microseconds extend_by{0};
};

enum class WorkerAction : std::uint8_t {
  announce_spawn,    // log "started", publish "fork"
  watch_exit,        // wait for its exit
  read_output,       // its stdout/stderr start reading
  arm_ready_timer,   // ready_timeout from now
  arm_watchdog,      // watchdog from now
  start_channel,     // read the Node channel
  publish_online,    // "online"
  arm_quiet_timer,   // ready = "auto": the wait for a server request
  probe_own_listen,  // Node: look for a socket it listens on by itself
  log_no_server,     // "asked for no server: ready without listening"
  become_ready,      // a usage sample, the ready timer cancelled, on_ready run
  arm_drain_timer,
  cancel_drain_timer,
  arm_stop_timer,      // stop_timeout from now
  extend_stop_timer,   // EXTEND_TIMEOUT_USEC: the stop deadline, never earlier
  extend_ready_timer,  // the same for the ready deadline
  disconnect_channel,  // leave its sockets, send Node's disconnect
  send_stop_signal,    // stop_signal to its process group
  publish_ready_timeout,
  publish_watchdog,
  kill_crashed,        // SIGKILL to its group, logged with Decision::why
  kill_drain_overdue,  // SIGKILL, logged: drain_timeout
  kill_stop_overdue,   // SIGKILL, logged: stop_timeout
  kill_group,          // SIGKILL, unlogged
  leave_sockets,       // its rr registrations and parked connections go
  publish_disconnect,
  report_spawn_failure,  // log, post the exit handler
  cancel_timers,         // exited: every timer of this life
  close_channel,         // exited: "disconnect" if still open, close, leave sockets
  kill_leftovers,        // exited: SIGKILL what remains of its group
  report_exit,           // exited: ExitInfo from the life, "exit", exit handler
};

// The actions of one decision, in the order they are carried out.
class WorkerActions {
 public:
  void add(WorkerAction a);
  bool has(WorkerAction a) const;
  bool empty() const { return size_ == 0; }
  const WorkerAction* begin() const { return items_.data(); }
  const WorkerAction* end() const { return items_.data() + size_; }

 private:
  std::array<WorkerAction, 16> items_{};
  std::uint8_t size_ = 0;
};

struct WorkerDecision {
  WorkerLife life;
  WorkerActions actions;
  const char* why = nullptr;  // kill_crashed: what it did wrong
};

WorkerDecision decide(const WorkerLife& life, WorkerEvent event, const WorkerFacts& facts);

}  // namespace muster::daemon
