// Worker: carrying out what the table decides (daemon/supervision/worker_decide.h). The
// deciding is there, pure; here is only the doing: logs, events, signals,
// timers, the channel and the exit report.
#include <signal.h>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "daemon/common/events.h"
#include "daemon/common/memory_reserve.h"
#include "daemon/launch/launcher.h"
#include "daemon/supervision/worker.h"

namespace muster::daemon {
namespace asio = boost::asio;

WorkerFacts Worker::facts() const {
  WorkerFacts f;
  f.ready_mode = app_.ready;
  f.must_listen = must_listen_;
  f.has_channel = has_channel();
  f.drain_timeout = app_.drain_timeout.count() > 0;
  f.watchdog = app_.watchdog.count() > 0;
  f.exit_signal = exit_.signal;
  f.now = Clock::now();
  f.stop_signal = app_.stop_signal;
  f.stop_timeout = app_.stop_timeout;
  return f;
}

void Worker::on(Event event) { on(event, facts()); }

void Worker::on(Event event, const WorkerFacts& facts) {
  auto self = shared_from_this();  // the exit handler may drop the last owner
  WorkerDecision decision = decide(life_, event, facts);
  life_ = decision.life;
  for (WorkerAction action : decision.actions) carry_out(action, event, decision, facts);
}

boost::json::object Worker::who() const { return {{"id", identity_.id}, {"pid", pid_}}; }

// size: table (one row per WorkerAction: what carries it out)
void Worker::carry_out(WorkerAction action, Event event, const WorkerDecision& d,
                       const WorkerFacts& f) {
  using A = WorkerAction;
  auto& events = context_.events;
  auto now = Clock::now();
  switch (action) {
    case A::announce_spawn: return announce_spawn();
    case A::watch_exit: return wait_for_exit();
    case A::read_output: return read_output();
    case A::arm_ready_timer: return arm_ready_timer(now + app_.ready_timeout);
    case A::arm_watchdog: return arm_watchdog();
    case A::start_channel: return start_channel();
    case A::publish_online: return events.publish("online", identity_.app, who());
    case A::arm_quiet_timer: return arm_quiet_timer();
    case A::probe_own_listen: return probe_own_listen();
    case A::log_no_server:
      spdlog::info("{}[{}] asked for no server: ready without listening", identity_.app,
                   identity_.id);
      return;
    case A::become_ready: return become_ready(event);
    case A::arm_drain_timer: return arm_drain_timer();
    case A::cancel_drain_timer: drain_timer_.cancel(); return;
    case A::arm_stop_timer: return start_stop_timer();
    case A::extend_stop_timer:
      if (now + f.extend_by > stop_timer_.expiry()) arm_stop_timer(now + f.extend_by);
      return;
    case A::extend_ready_timer:
      if (now + f.extend_by > ready_timer_.expiry()) arm_ready_timer(now + f.extend_by);
      return;
    case A::disconnect_channel: return disconnect_channel();
    case A::send_stop_signal:
      spdlog::debug("{}[{}] stopping with {}", identity_.app, identity_.id,
                    config::signal_name(app_.stop_signal));
      return kill_group(app_.stop_signal);
    case A::publish_ready_timeout: return events.publish("ready_timeout", identity_.app, who());
    case A::publish_watchdog: return events.publish("watchdog", identity_.app, who());
    case A::kill_crashed:
    case A::kill_drain_overdue:
    case A::kill_stop_overdue:
    case A::kill_group: return kill_for(action, d.why);
    case A::leave_sockets:
      leave_sockets();
      parked_.clear();
      return;
    case A::publish_disconnect: return events.publish("disconnect", identity_.app, who());
    case A::report_spawn_failure:
      spdlog::error("{}[{}] {}", identity_.app, identity_.id, exit_.describe());
      asio::post(io_, [self = shared_from_this()] { self->on_exit_(*self, self->exit_); });
      return;
    case A::cancel_timers:
      for (auto* t : {&stop_timer_, &drain_timer_, &quiet_timer_, &ready_timer_, &watchdog_timer_,
                      &probe_timer_})
        t->cancel();
      return;
    case A::close_channel: return close_channel();
    // Whatever the worker left behind in its group goes with it. The group
    // only: the worker itself is reaped, and its pid may be someone else's.
    case A::kill_leftovers:
      if (pid_ > 0) context_.launcher.signal(pid_, SIGKILL, SignalTarget::group);
      return;
    case A::report_exit: return report_exit();
  }
}

// SIGKILL to its group, said in the log as the decision's reason.
void Worker::kill_for(WorkerAction action, const char* why) {
  if (action == WorkerAction::kill_crashed)
    spdlog::warn("{}[{}] {}; killing it", identity_.app, identity_.id, why);
  if (action == WorkerAction::kill_drain_overdue)
    spdlog::warn("{}[{}] did not finish leaving within drain_timeout ({}ms); sending SIGKILL",
                 identity_.app, identity_.id, app_.drain_timeout.count());
  if (action == WorkerAction::kill_stop_overdue)
    spdlog::warn("{}[{}] did not exit within {}ms; sending SIGKILL", identity_.app, identity_.id,
                 app_.stop_timeout.count());
  kill_group(SIGKILL);
}

void Worker::announce_spawn() {
  spdlog::info("{}[{}] started, pid {}, instance {}", identity_.app, identity_.id, pid_,
               identity_.instance);
  context_.events.publish("fork", identity_.app,
                          {{"id", identity_.id}, {"pid", pid_}, {"instance", identity_.instance}});
}

void Worker::start_channel() {
  channel_->start(
      [w = weak_from_this()](boost::json::value m, ipc::UniqueFd fd) {
        auto self = w.lock();
        if (!self) return;
        try {
          self->on_channel_message(std::move(m), std::move(fd));
        } catch (const std::exception& e) {
          memory_reserve::release_if_out_of_memory(e);
          // Out of memory, say: this one message is not acted on.
          spdlog::error("{}[{}] its message could not be handled: {}", self->identity_.app,
                        self->identity_.id, e.what());
        }
      },
      [w = weak_from_this()](const std::string& error) {
        if (auto self = w.lock()) self->on_channel_closed(error);
      });
}

// Node's worker.disconnect(): the worker closes its servers and goes.
void Worker::disconnect_channel() {
  spdlog::debug("{}[{}] disconnecting", identity_.app, identity_.id);
  leave_sockets();
  send_cluster({{"act", "disconnect"}});
}

void Worker::close_channel() {
  // Node emits 'disconnect' before 'exit'; the channel's EOF may not have
  // been read yet when the exit is.
  if (has_channel()) context_.events.publish("disconnect", identity_.app, who());
  if (channel_) channel_->close();
  leave_sockets();
  parked_.clear();
}

void Worker::report_exit() {
  exit_.voluntary = life_.voluntary;
  exit_.forced = life_.forced;
  exit_.after_disconnect = life_.after_disconnect;
  if (life_.reason) exit_.reason = life_.reason;
  exit_.uptime = std::chrono::duration_cast<Duration>(Clock::now() - started_);
  if (exit_.voluntary || exit_.clean())
    spdlog::info("{}[{}] {}", identity_.app, identity_.id, exit_.describe());
  else
    spdlog::warn("{}[{}] {}", identity_.app, identity_.id, exit_.describe());
  boost::json::object e = who();
  e["code"] = exit_.code ? boost::json::value(*exit_.code) : nullptr;
  e["signal"] = exit_.signal ? boost::json::value(config::signal_name(*exit_.signal)) : nullptr;
  e["voluntary"] = exit_.voluntary;
  e["exitedAfterDisconnect"] = exit_.after_disconnect;
  context_.events.publish("exit", identity_.app, std::move(e));
  try {
    on_exit_(*this, exit_);
  } catch (const std::exception& err) {
    memory_reserve::release_if_out_of_memory(err);
    spdlog::error("{}[{}] its exit could not be handled: {}", identity_.app, identity_.id,
                  err.what());
  }
}

void Worker::become_ready(Event event) {
  // A ready worker has loaded what it runs: a figure worth showing. Not one
  // its spawn made ready (ready = "spawn", or "online" without a channel):
  // it is still being exec'd and loaded, and reading its /proc/PID/stat then
  // waits for a lock of its memory map that it holds, as long as it waits
  // for a CPU (up to ~20 ms of the loop per worker, seen during a start of
  // 1000 on a busy box). Its figure is read when first asked for (usage())
  // or by the next round (App::watch_usage).
  if (event != Event::spawned) sample_usage();
  ready_timer_.cancel();
  spdlog::debug("{}[{}] ready", identity_.app, identity_.id);
  if (auto callback = std::move(on_ready_)) asio::post(io_, std::move(callback));
  if (context_.start_order_changed) context_.start_order_changed();
}

}  // namespace muster::daemon
