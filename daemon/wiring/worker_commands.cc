// The control verbs that act on one worker by its id (commands.cc has the
// table of every verb).
#include "daemon/wiring/worker_commands.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include "daemon/wiring/supervisor.h"

namespace muster::daemon::worker_commands {

using ipc::error_reply;
using ipc::ok_reply;

Worker* worker_or_error(Supervisor& s, const ipc::Request& r, const Respond& respond) {
  Worker* w = s.find_worker(static_cast<unsigned>(*r.id));
  if (!w || w->state() == WorkerState::dead) {
    respond(error_reply("no worker with id " + std::to_string(*r.id)));
    return nullptr;
  }
  return w;
}

void restart_worker(Supervisor& s, const ipc::Request& r, Respond respond) {
  Worker* w = worker_or_error(s, r, respond);
  if (!w) return;
  const std::int64_t old_id = *r.id;
  const std::string id = std::to_string(old_id);
  if (w->state() == WorkerState::disconnecting)
    return respond(error_reply("worker " + id + " is already leaving"));
  App* app = s.find_app(w->identity().app);
  if (!app || !app->wanted_up())
    return respond(error_reply("worker " + id + "'s app is stopping or stopped"));
  if (app->is_candidate(w->identity().id))
    return respond(error_reply("worker " + id +
                               " is a replacement that is not ready yet; "
                               "restart it once it is"));
  const unsigned slot = w->identity().instance;
  spdlog::info("{}[{}] restart requested by an operator", app->name(), id);
  app->replace(slot, [app, alive = app->lifetime(), slot, old_id, id,
                      respond](Result<void> result) {
    if (!result)
      return respond(error_reply("restart of worker " + id + " failed: " + result.error().message));
    if (!alive.lock()) return respond(error_reply("worker " + id + "'s app was removed"));
    boost::json::object reply{{"app", app->name()}, {"id", old_id}};
    // The slot's worker comes first in workers(); a leaving one may share its slot.
    for (Worker* now : app->workers()) {
      if (now->identity().instance != slot || now->state() == WorkerState::disconnecting) continue;
      reply["replaced_by"] = now->identity().id;
      reply["pid"] = now->pid();
      break;
    }
    respond(ok_reply(std::move(reply)));
  });
}

void kill(Supervisor& s, const ipc::Request& r, Respond respond) {
  int signo = SIGTERM;
  if (r.signal) {
    auto parsed = config::parse_signal(*r.signal);
    if (!parsed) return respond(error_reply("unknown signal '" + *r.signal + "'"));
    signo = *parsed;
  }
  Worker* w = worker_or_error(s, r, respond);
  if (!w) return;
  int pid = w->pid();
  if (!w->send_signal(signo))
    return respond(error_reply("could not signal worker " + std::to_string(*r.id)));
  spdlog::info("{}[{}] sent {} by an operator", w->identity().app, *r.id,
               config::signal_name(signo));
  respond(ok_reply({{"id", *r.id}, {"pid", pid}, {"signal", config::signal_name(signo)}}));
}

void disconnect(Supervisor& s, const ipc::Request& r, Respond respond) {
  Worker* w = worker_or_error(s, r, respond);
  if (!w) return;
  spdlog::info("{}[{}] disconnect requested by an operator", w->identity().app, *r.id);
  w->disconnect();
  respond(ok_reply({{"id", *r.id}, {"pid", w->pid()}}));
}

}  // namespace muster::daemon::worker_commands
