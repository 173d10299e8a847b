#include "daemon/supervision/worker_decide.h"

#include <stdexcept>

namespace muster::daemon {
namespace {

using A = WorkerAction;
using E = WorkerEvent;
using S = WorkerState;
using Cell = void (*)(WorkerDecision&, const WorkerFacts&);

// Ready once it reaches what the app's `ready` waits for ("auto" waits for
// listening; the quiet rule makes it ready another way).
void reach(WorkerDecision& d, const WorkerFacts& f, config::Ready reached) {
  auto wanted = f.ready_mode == config::Ready::automatic ? config::Ready::listening : f.ready_mode;
  if (d.life.ready || reached != wanted) return;
  d.life.ready = true;
  d.actions.add(A::become_ready);
}

// The worker is broken in a way it will not fix itself: end it now; its exit
// counts as a crash (backoff, crash-loop detection).
void crash(WorkerDecision& d, const char* why) {
  d.life.forced = true;
  if (!d.life.reason) d.life.reason = why;
  d.why = why;
  d.actions.add(A::kill_crashed);
}

// A drain the worker started itself (cluster.worker.disconnect()) is bounded
// only if the user asked for it: Node's primary waits as long as it takes.
void start_drain(WorkerDecision& d, const WorkerFacts& f) {
  if (d.life.draining || d.life.stop_asked || !f.drain_timeout) return;
  d.life.draining = true;
  d.actions.add(A::arm_drain_timer);
}

void ignore(WorkerDecision&, const WorkerFacts&) {}

void go_online(WorkerDecision& d, const WorkerFacts& f) {
  d.life.state = S::online;
  d.actions.add(A::publish_online);
  reach(d, f, config::Ready::online);
  if (!d.life.ready && f.ready_mode == config::Ready::automatic && !f.must_listen)
    d.actions.add(A::arm_quiet_timer);
  // Node 23's reusePort, exclusive: true: it may listen without telling us.
  if (!d.life.ready && f.has_channel) d.actions.add(A::probe_own_listen);
}

void launched(WorkerDecision& d, const WorkerFacts& f) {
  d.actions.add(A::announce_spawn);
  d.actions.add(A::watch_exit);
  d.actions.add(A::read_output);
  reach(d, f, config::Ready::spawn);
  if (!d.life.ready) d.actions.add(A::arm_ready_timer);
  if (f.watchdog) d.actions.add(A::arm_watchdog);
  if (f.has_channel)
    d.actions.add(A::start_channel);
  else
    go_online(d, f);  // without a channel there is nothing more to wait for
}

// Spawning runs off the loop (daemon/launch/spawner.h): a stop can come before the
// process exists. Its exit is watched and its output read as for any life;
// the disconnect was queued on the channel, but without a channel the stop
// signal could not be sent before, so it goes now.
void launched_stopping(WorkerDecision& d, const WorkerFacts& f) {
  d.actions.add(A::announce_spawn);
  d.actions.add(A::watch_exit);
  d.actions.add(A::read_output);
  if (f.has_channel)
    d.actions.add(A::start_channel);
  else if (d.life.stop_asked)
    d.actions.add(A::send_stop_signal);
}

void spawn_failed(WorkerDecision& d, const WorkerFacts&) {
  d.life.state = S::dead;
  d.actions.add(A::report_spawn_failure);
}

// Node lets a worker run without servers (a background job): one that has
// asked for none is ready as it is, never killed for not listening.
void quiet(WorkerDecision& d, const WorkerFacts& f) {
  if (d.life.ready || d.life.asked_server || f.must_listen) return;
  d.actions.add(A::log_no_server);
  d.life.ready = true;
  d.actions.add(A::become_ready);
}

void server_requested(WorkerDecision& d, const WorkerFacts&) {
  d.life.asked_server = true;
  // It listens again: whatever it closed was not a disconnect.
  if (d.life.draining && !d.life.after_disconnect) {
    d.life.draining = false;
    d.actions.add(A::cancel_drain_timer);
  }
}

// The first sign of a worker's own disconnect (it closes every server, then
// waits for their connections to end); a server.close() alone looks the
// same, so only a drain_timeout the user set applies here.
void servers_closed(WorkerDecision& d, const WorkerFacts& f) { start_drain(d, f); }

void left_on_its_own(WorkerDecision& d, const WorkerFacts& f) {
  d.life.after_disconnect = true;
  d.life.left_on_its_own = true;
  start_drain(d, f);
}

void drain_overdue(WorkerDecision& d, const WorkerFacts&) {
  if (!d.life.draining) return;
  d.life.drain_ended = true;  // it was leaving on its own: not a crash
  if (!d.life.reason) d.life.reason = "drain_timeout";
  d.actions.add(A::kill_drain_overdue);
}

void listening(WorkerDecision& d, const WorkerFacts& f) {
  d.life.state = S::listening;
  reach(d, f, config::Ready::listening);
}

// systemd protocol: READY=1 is the listening of a socket-activated server.
void notified_ready(WorkerDecision& d, const WorkerFacts& f) {
  if (d.life.state == S::online) d.life.state = S::listening;
  reach(d, f, config::Ready::notify);
}

// STOPPING=1: the worker is on its way out; stop_timeout bounds it.
void stopping(WorkerDecision& d, const WorkerFacts&) {
  d.life.state = S::disconnecting;
  d.actions.add(A::arm_stop_timer);
}

void ready_overdue(WorkerDecision& d, const WorkerFacts& f) {
  if (d.life.ready) return;
  if (f.ready_mode == config::Ready::automatic && d.life.state == S::online &&
      !d.life.asked_server && !f.must_listen)
    return quiet(d, f);
  d.actions.add(A::publish_ready_timeout);
  crash(d, "did not become ready within ready_timeout");
}

void watchdog_missed(WorkerDecision& d, const WorkerFacts&) {
  d.actions.add(A::publish_watchdog);
  crash(d, "missed its watchdog");
}

// Node's worker.kill() (a stop) after a disconnect, or while the worker
// leaves on its own: the signal goes when the channel closes, or now if it
// has closed already.
void signal_after_disconnect(WorkerDecision& d, const WorkerFacts& f) {
  if (!f.signal_after_disconnect || d.life.signal_on_close) return;
  d.life.signal_on_close = true;
  if (!f.has_channel) d.actions.add(A::send_stop_signal);
}

// With a channel, Node's sequence: disconnect, and for a stop (not a
// disconnect) stop_signal once the channel has closed; stop_timeout bounds it.
void stop(WorkerDecision& d, const WorkerFacts& f) {
  if (d.life.stop_asked) return signal_after_disconnect(d, f);
  d.life.state = S::disconnecting;
  d.life.stop_asked = true;
  if (f.has_channel) {
    d.life.after_disconnect = true;  // as Node's worker.disconnect() sets it
    d.life.signal_on_close = f.signal_after_disconnect;
    d.actions.add(A::disconnect_channel);
  } else {
    d.life.signal_on_close = f.signal_after_disconnect;  // sent: not again
    d.actions.add(A::send_stop_signal);
  }
  d.actions.add(A::arm_stop_timer);
}

void stop_leaving(WorkerDecision& d, const WorkerFacts& f) {
  if (d.life.stop_asked) return signal_after_disconnect(d, f);
  d.life.stop_asked = true;
  // Leaving on its own, unbounded (drain_timeout off): a stop bounds it.
  if (d.life.after_disconnect) d.actions.add(A::arm_stop_timer);
  signal_after_disconnect(d, f);
}

void channel_gone(WorkerDecision& d, const WorkerFacts&) {
  d.actions.add(A::leave_sockets);
  d.actions.add(A::publish_disconnect);
}

void channel_closed(WorkerDecision& d, const WorkerFacts& f) {
  channel_gone(d, f);
  if (d.life.stop_asked && d.life.signal_on_close) d.actions.add(A::send_stop_signal);
  if (d.life.after_disconnect && !d.life.stop_asked) {
    // Its own disconnect is done; Node's primary lets it linger as long as
    // its event loop keeps it alive. drain_timeout, if set, bounds it.
    d.life.state = S::disconnecting;
    return start_drain(d, f);
  }
  // A worker that dropped its channel is leaving; one that lingers (a timer
  // keeps Node alive) is ended by stop_timeout.
  if (d.life.state != S::disconnecting) {
    d.life.state = S::disconnecting;
    d.actions.add(A::arm_stop_timer);
  }
}

void channel_broken(WorkerDecision& d, const WorkerFacts& f) {
  crash(d, "broke the IPC protocol");
  channel_closed(d, f);
}

void stop_overdue(WorkerDecision& d, const WorkerFacts&) { d.actions.add(A::kill_stop_overdue); }

// The verdict is taken here, from what happened: who asked it to go, and
// whether the signal that ended it is one an operator sent.
void exited(WorkerDecision& d, const WorkerFacts& f) {
  WorkerLife& l = d.life;
  l.state = S::dead;
  d.actions.add(A::cancel_timers);
  d.actions.add(A::close_channel);
  d.actions.add(A::kill_leftovers);
  bool asked = l.stop_asked || l.left_on_its_own || l.drain_ended;
  l.voluntary = !l.forced && (asked || l.operator_signals.ended_it(f.exit_signal, f.now));
  d.actions.add(A::report_exit);
}

void kill(WorkerDecision& d, const WorkerFacts&) { d.actions.add(A::kill_group); }

void operator_signal(WorkerDecision& d, const WorkerFacts& f) {
  d.life.operator_signals.sent(f.signo, f.now, f.stop_signal, f.stop_timeout);
}

// EXTEND_TIMEOUT_USEC= moves the deadline of the phase it is in: start-up
// (ready_timeout) or stop (stop_timeout). A ready, running worker has none.
void extend_start(WorkerDecision& d, const WorkerFacts&) {
  if (!d.life.ready) d.actions.add(A::extend_ready_timer);
}

void extend_stop(WorkerDecision& d, const WorkerFacts&) { d.actions.add(A::extend_stop_timer); }

void watchdog_kept(WorkerDecision& d, const WorkerFacts& f) {
  if (f.watchdog) d.actions.add(A::arm_watchdog);
}

struct Row {
  WorkerEvent event;
  std::array<Cell, kWorkerStates> cells;
};

// Every cell decided: one row per event, one column per state.
// A dead worker's channel and notify socket are closed: their events no longer
// come, but for a channel failure posted before the exit was handled
// (NodeChannel::fail): a dead worker is not killed, its pid may be reused.
// The watchdog applies while the worker runs, as systemd's stops once a
// service leaves the running state: a stopping worker has stop_timeout.
constexpr Row kTable[] = {
    //                      spawning          online            listening         disconnecting dead
    {E::spawned, {launched, ignore, ignore, launched_stopping, ignore}},
    {E::spawn_failed, {spawn_failed, ignore, ignore, spawn_failed, ignore}},
    {E::online, {go_online, ignore, ignore, ignore, ignore}},
    {E::listening, {ignore, listening, listening, ignore, ignore}},
    {E::notified_ready, {notified_ready, notified_ready, notified_ready, notified_ready, ignore}},
    {E::stopping, {ignore, stopping, stopping, ignore, ignore}},
    {E::stop, {stop, stop, stop, stop_leaving, ignore}},
    {E::channel_closed,
     {channel_closed, channel_closed, channel_closed, channel_closed, channel_gone}},
    {E::channel_broken,
     {channel_broken, channel_broken, channel_broken, channel_broken, channel_gone}},
    {E::stop_timeout, {ignore, ignore, ignore, stop_overdue, ignore}},
    {E::ready_timeout, {ready_overdue, ready_overdue, ready_overdue, ignore, ignore}},
    {E::watchdog_timeout, {watchdog_missed, watchdog_missed, watchdog_missed, ignore, ignore}},
    {E::exited, {exited, exited, exited, exited, ignore}},
    {E::server_requested,
     {server_requested, server_requested, server_requested, server_requested, ignore}},
    {E::servers_closed, {ignore, servers_closed, servers_closed, ignore, ignore}},
    {E::left_on_its_own,
     {left_on_its_own, left_on_its_own, left_on_its_own, left_on_its_own, ignore}},
    {E::quiet, {ignore, quiet, ignore, ignore, ignore}},
    {E::drain_timeout, {drain_overdue, drain_overdue, drain_overdue, drain_overdue, ignore}},
    {E::kill, {kill, kill, kill, kill, ignore}},
    {E::operator_signal,
     {operator_signal, operator_signal, operator_signal, operator_signal, ignore}},
    {E::extend_timeout, {extend_start, extend_start, extend_start, extend_stop, ignore}},
    {E::watchdog_kept, {watchdog_kept, watchdog_kept, watchdog_kept, ignore, ignore}},
};

constexpr bool rows_in_event_order() {
  for (std::size_t i = 0; i < std::size(kTable); ++i)
    if (static_cast<std::size_t>(kTable[i].event) != i) return false;
  return true;
}
static_assert(std::size(kTable) == kWorkerEvents, "one row per event");
static_assert(rows_in_event_order(), "rows in the order of WorkerEvent");

constexpr const char* kEventNames[] = {
    "spawned",        "spawn_failed",     "online",         "listening",
    "notified_ready", "stopping",         "stop",           "channel_closed",
    "channel_broken", "stop_timeout",     "ready_timeout",  "watchdog_timeout",
    "exited",         "server_requested", "servers_closed", "left_on_its_own",
    "quiet",          "drain_timeout",    "kill",           "operator_signal",
    "extend_timeout", "watchdog_kept",
};
static_assert(std::size(kEventNames) == kWorkerEvents, "one name per event");

}  // namespace

const char* to_string(WorkerState s) {
  switch (s) {
    case WorkerState::spawning: return "spawning";
    case WorkerState::online: return "online";
    case WorkerState::listening: return "listening";
    case WorkerState::disconnecting: return "disconnecting";
    case WorkerState::dead: return "dead";
  }
  return "?";
}

const char* to_string(WorkerEvent e) { return kEventNames[static_cast<std::size_t>(e)]; }

WorkerDecision decide(const WorkerLife& life, WorkerEvent event, const WorkerFacts& facts) {
  WorkerDecision d{life, {}, nullptr};
  kTable[static_cast<std::size_t>(event)].cells[static_cast<std::size_t>(life.state)](d, facts);
  return d;
}

void WorkerActions::add(WorkerAction a) {
  if (size_ == items_.size()) throw std::logic_error("a worker decision with too many actions");
  items_[size_++] = a;
}

bool WorkerActions::has(WorkerAction a) const {
  for (auto x : *this)
    if (x == a) return true;
  return false;
}

}  // namespace muster::daemon
