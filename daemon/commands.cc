#include "daemon/commands.h"

#include <signal.h>

#include <map>
#include <spdlog/spdlog.h>

#include "daemon/supervisor.h"

namespace muster::daemon {
namespace {

using Respond = ControlServer::Respond;
using ipc::error_reply;
using ipc::ok_reply;

// Looks the request's app up, or answers the error and returns null.
App* app_or_error(Supervisor& s, const ipc::Request& r, const Respond& respond) {
  App* app = s.find_app(*r.app);
  if (!app) respond(error_reply("no app named '" + *r.app + "'"));
  return app;
}

boost::json::object app_field(const App& app) { return {{"app", app.name()}}; }

void ping(Supervisor&, const ipc::Request&, Respond respond) {
  respond(ok_reply({{"pong", true}}));
}

void version(Supervisor&, const ipc::Request&, Respond respond) {
  respond(ok_reply({{"version", MUSTER_VERSION}}));
}

void status(Supervisor& s, const ipc::Request& r, Respond respond) {
  boost::json::array apps;
  if (r.app) {
    App* app = app_or_error(s, r, respond);
    if (!app) return;
    apps.push_back(app->status());
  } else {
    for (auto& app : s.apps()) apps.push_back(app->status());
  }
  respond(ok_reply({{"apps", std::move(apps)}, {"sockets", s.sockets().status()}}));
}

void start(Supervisor& s, const ipc::Request& r, Respond respond) {
  App* app = app_or_error(s, r, respond);
  if (!app) return;
  app->start();
  respond(ok_reply(app_field(*app)));
}

void stop(Supervisor& s, const ipc::Request& r, Respond respond) {
  App* app = app_or_error(s, r, respond);
  if (!app) return;
  app->stop([respond, field = app_field(*app)] { respond(ok_reply(field)); });
}

void restart(Supervisor& s, const ipc::Request& r, Respond respond) {
  App* app = app_or_error(s, r, respond);
  if (!app) return;
  app->stop([&s, app, respond] {
    // A shutdown that began meanwhile wins: do not start workers again.
    if (s.shutting_down()) return respond(error_reply("musterd is shutting down"));
    app->start();
    respond(ok_reply(app_field(*app)));
  });
}

void scale(Supervisor& s, const ipc::Request& r, Respond respond) {
  App* app = app_or_error(s, r, respond);
  if (!app) return;
  app->scale(static_cast<unsigned>(*r.count));
  auto reply = app_field(*app);
  reply["instances"] = *r.count;
  respond(ok_reply(std::move(reply)));
}

// A live worker by the request's id, or the error answered and null.
Worker* worker_or_error(Supervisor& s, const ipc::Request& r, const Respond& respond) {
  Worker* w = s.find_worker(static_cast<unsigned>(*r.id));
  if (!w || w->state() == WorkerState::dead) {
    respond(error_reply("no worker with id " + std::to_string(*r.id)));
    return nullptr;
  }
  return w;
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

void send(Supervisor& s, const ipc::Request& r, Respond respond) {
  std::vector<Worker*> targets;
  if (r.id) {
    Worker* w = worker_or_error(s, r, respond);
    if (!w) return;
    if (!w->has_channel())
      return respond(error_reply("worker " + std::to_string(*r.id) + " has no IPC channel"));
    targets.push_back(w);
  } else {
    App* app = app_or_error(s, r, respond);
    if (!app) return;
    targets = app->workers();
  }
  int sent = 0;
  for (Worker* w : targets) sent += w->send_message(*r.message) ? 1 : 0;
  respond(ok_reply({{"sent", sent}}));
}

void events(Supervisor& s, const ipc::Request& r, Respond respond) {
  if (!r.follow) return respond(ok_reply({{"events", s.events().recent()}}));
  respond(ok_reply({{"follow", true}}));
  auto id = s.events().follow([respond](const std::string& line) { respond.push(line); });
  respond.stream([&s, id] { s.events().unfollow(id); });
}

void reload(Supervisor& s, const ipc::Request& r, Respond respond) {
  App* app = app_or_error(s, r, respond);
  if (!app) return;
  if (!app->wanted_up())
    return respond(error_reply("app '" + app->name() + "' is " + to_string(app->state()) +
                               "; start it first"));
  if (!r.wait) {
    app->reload(nullptr);
    return respond(ok_reply({{"app", app->name()}, {"started", true}}));
  }
  app->reload([respond, name = app->name()](std::optional<std::string> error) {
    if (error) return respond(error_reply("reload of '" + name + "' failed: " + *error));
    respond(ok_reply({{"app", name}}));
  });
}

void reload_config(Supervisor& s, const ipc::Request&, Respond respond) {
  auto result = s.reload_config();
  if (result.errors.empty()) return respond(ok_reply(std::move(result.changes)));
  boost::json::object reply{{"ok", false}};
  std::string message = "the config has errors; nothing was changed:";
  boost::json::array errors;
  for (const auto& e : result.errors) {
    message += "\n  " + e;
    errors.emplace_back(e);
  }
  reply["error"] = message;
  reply["errors"] = std::move(errors);
  respond(boost::json::serialize(reply) + "\n");
}

void logs(Supervisor& s, const ipc::Request& r, Respond respond) {
  App* app = app_or_error(s, r, respond);
  if (!app) return;
  std::size_t n = r.count ? static_cast<std::size_t>(*r.count) : 100;
  auto lines = app->output().tail(n);
  if (!r.follow) return respond(ok_reply({{"lines", std::move(lines)}}));
  respond(ok_reply({{"lines", std::move(lines)}, {"follow", true}}));
  // The sink is shared with the workers, so it outlives a removed app.
  std::weak_ptr<OutputSink> sink = app->output_ptr();
  auto id = app->output().follow([respond](const std::string& line) { respond.push(line); });
  respond.stream([sink, id] {
    if (auto s = sink.lock()) s->unfollow(id);
  });
}

void shutdown(Supervisor& s, const ipc::Request&, Respond respond) {
  respond(ok_reply());
  s.shutdown("shutdown requested over the control socket");
}

using Handler = void (*)(Supervisor&, const ipc::Request&, Respond);

const std::map<std::string, Handler, std::less<>>& handlers() {
  static const std::map<std::string, Handler, std::less<>> table{
      {"ping", ping},       {"version", version}, {"status", status},
      {"start", start},     {"stop", stop},       {"restart", restart},
      {"scale", scale},     {"kill", kill},       {"shutdown", shutdown},
      {"disconnect", disconnect}, {"send", send}, {"events", events},
      {"reload", reload},   {"reload-config", reload_config}, {"logs", logs},
  };
  return table;
}

}  // namespace

void run_command(Supervisor& supervisor, const ipc::Request& request, Respond respond) {
  auto it = handlers().find(request.verb);
  if (it == handlers().end()) return respond(error_reply("unknown verb '" + request.verb + "'"));
  try {
    it->second(supervisor, request, respond);
  } catch (const std::exception& e) {
    spdlog::error("control: '{}' failed: {}", request.verb, e.what());
    respond(error_reply(std::string("internal error: ") + e.what()));
  }
}

}  // namespace muster::daemon
