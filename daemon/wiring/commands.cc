#include "daemon/wiring/commands.h"

#include <signal.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <map>
#include <optional>

#include "base/version.h"
#include "daemon/common/memory_reserve.h"
#include "daemon/observe/status_json.h"
#include "daemon/output/merged_tail.h"
#include "daemon/wiring/describe_command.h"
#include "daemon/wiring/supervisor.h"
#include "daemon/wiring/worker_commands.h"
#include "ipc/v8_frames.h"

namespace muster::daemon {
namespace {

using Respond = ControlServer::Respond;
using ipc::error_reply;
using ipc::ok_reply;
using worker_commands::disconnect;
using worker_commands::kill;
using worker_commands::restart_worker;
using worker_commands::worker_or_error;

// Looks the request's app up, or answers the error and returns null.
App* app_or_error(Supervisor& s, const ipc::Request& r, const Respond& respond) {
  App* app = s.find_app(*r.app);
  if (!app) respond(error_reply("no app named '" + config::printable(*r.app) + "'"));
  return app;
}

boost::json::object app_field(const App& app) { return {{"app", app.name()}}; }

// The instances the config file gives `app` (a runtime scale may differ), or
// nullopt for an app no longer in it.
std::optional<unsigned> config_instances(const Supervisor& s, const App& app) {
  const config::AppConfig* c = s.config().find_app(app.name());
  return c ? std::optional(c->instances) : std::nullopt;
}

void ping(Supervisor&, const ipc::Request&, Respond respond) {
  respond(ok_reply({{"pong", true}}));
}

void version(Supervisor&, const ipc::Request&, Respond respond) {
  respond(ok_reply({{"version", muster::version()}}));
}

// One snapshot (daemon/observe/snapshot.h) of everything, rendered.
void status(Supervisor& s, const ipc::Request& r, Respond respond) {
  const DaemonSnapshot snapshot = s.snapshot();
  const AppSnapshot* only = nullptr;
  if (r.app) {
    only = snapshot.find_app(*r.app);
    if (!only) return respond(error_reply("no app named '" + config::printable(*r.app) + "'"));
  }
  respond(ok_reply(status_reply_fields(snapshot, only)));
}

// The apps a request names: one, or every app for "all". Empty (the error
// answered) if there is no such app.
std::vector<App*> apps_or_error(Supervisor& s, const ipc::Request& r, const Respond& respond) {
  std::vector<App*> out;
  if (*r.app == "all") {
    for (auto& app : s.apps())
      if (!app->removed()) out.push_back(app.get());
    if (out.empty()) respond(error_reply("there are no apps"));
    return out;
  }
  if (App* app = app_or_error(s, r, respond)) out.push_back(app);
  return out;
}

boost::json::array names_of(const std::vector<App*>& apps) {
  boost::json::array out;
  for (App* app : apps) out.emplace_back(app->name());
  return out;
}

// One reply for a verb run on one app or on "all": ok once each app is done,
// else the failures, one per line ("app: reason" for "all").
struct Gathered {
  explicit Gathered(Respond r) : respond(std::move(r)) {}
  Respond respond;
  bool all = false;
  std::size_t left = 0;
  boost::json::array names;
  std::vector<std::string> errors;

  static std::shared_ptr<Gathered> make(Respond respond, const std::vector<App*>& apps,
                                        const ipc::Request& r) {
    auto g = std::make_shared<Gathered>(std::move(respond));
    g->all = *r.app == "all";
    g->left = apps.size();
    g->names = names_of(apps);
    return g;
  }
  // The completion of one app's part.
  static App::ReloadDone one(std::shared_ptr<Gathered> g, std::string name) {
    return [g = std::move(g), name = std::move(name)](Result<void> result) {
      if (!result) {
        const std::string& why = result.error().message;
        g->errors.push_back(g->all ? name + ": " + why : why);
      }
      if (--g->left == 0) g->finish();
    };
  }
  void finish() {
    if (!errors.empty()) {
      std::string message;
      for (const auto& e : errors) message += (message.empty() ? "" : "\n") + e;
      return respond(error_reply(message));
    }
    boost::json::object reply;
    if (all)
      reply["apps"] = names;
    else
      reply["app"] = names.at(0);
    respond(ok_reply(std::move(reply)));
  }
};

void start(Supervisor& s, const ipc::Request& r, Respond respond) {
  auto apps = apps_or_error(s, r, respond);
  if (apps.empty()) return;
  auto g = Gathered::make(std::move(respond), apps, r);
  for (App* app : apps) {
    auto done = Gathered::one(g, app->name());
    // A refusal (the app is stopping) is answered even with --no-wait.
    if (r.wait || app->stopping()) {
      app->start(done);
    } else {
      app->start();
      done({});
    }
  }
}

void stop(Supervisor& s, const ipc::Request& r, Respond respond) {
  auto apps = apps_or_error(s, r, respond);
  if (apps.empty()) return;
  auto g = Gathered::make(std::move(respond), apps, r);
  for (App* app : apps) app->stop([done = Gathered::one(g, app->name())] { done({}); });
}

void restart(Supervisor& s, const ipc::Request& r, Respond respond) {
  auto apps = apps_or_error(s, r, respond);
  if (apps.empty()) return;
  auto g = Gathered::make(std::move(respond), apps, r);
  for (App* app : apps) {
    // Found again by name once stopped: a reload-config may have removed it
    // meanwhile. A stop asked for after this one wins over the start.
    unsigned stops = app->stops() + 1;
    app->stop([&s, name = app->name(), stops, wait = r.wait, done = Gathered::one(g, app->name())] {
      // A shutdown that began meanwhile wins: do not start workers again.
      if (s.shutting_down()) return done(Error{"musterd is shutting down"});
      App* again = s.find_app(name);
      if (!again) return done(Error{"app '" + name + "' was removed while it was stopping"});
      if (again->stops() != stops)
        return done(
            Error{"app '" + name + "' was stopped again while restarting; it stays stopped"});
      if (!wait) {
        again->start();
        return done({});
      }
      again->start(done);
    });
  }
}

void scale(Supervisor& s, const ipc::Request& r, Respond respond) {
  if (*r.count > config::kMaxInstances)
    return respond(
        error_reply("at most " + std::to_string(config::kMaxInstances) + " instances per app"));
  App* app = app_or_error(s, r, respond);
  if (!app) return;
  // inspect: the new slots' inspector ports must be free as at load.
  if (auto problem =
          config::inspect_range_problem(app->config(), static_cast<unsigned>(*r.count), s.config()))
    return respond(error_reply("cannot scale '" + app->name() + "': " + *problem));
  app->scale(static_cast<unsigned>(*r.count));
  auto reply = app_field(*app);
  reply["instances"] = *r.count;
  // scale never writes the config file; say so, or the next musterd restart
  // silently undoes it.
  reply["runtime_only"] = true;
  const std::string& file = s.config().path;
  if (auto n = config_instances(s, *app)) {
    reply["config_instances"] = *n;
    reply["note"] = *n == *r.count ? "the same as instances in " + file
                                   : "runtime only: when musterd restarts, " + file +
                                         " applies again (instances = " + std::to_string(*n) +
                                         "); change it there to keep " + std::to_string(*r.count);
  }
  respond(ok_reply(std::move(reply)));
}

void reset(Supervisor& s, const ipc::Request& r, Respond respond) {
  auto apps = apps_or_error(s, r, respond);
  if (apps.empty()) return;
  for (App* app : apps) app->reset_history();
  respond(ok_reply(*r.app == "all" ? boost::json::object{{"apps", names_of(apps)}}
                                   : app_field(*apps.front())));
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
  // An advanced worker gets the message as a V8 value: its `$` forms
  // (docs/compatibility.md) must convert, or nothing is sent.
  if (std::any_of(targets.begin(), targets.end(),
                  [](Worker* w) { return w->advanced_channel(); })) {
    auto frame = ipc::v8_frame_from_json(boost::json::serialize(*r.message));
    if (!frame)
      return respond(error_reply("message cannot be sent as a V8 value: " + frame.error().message));
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
  auto apps = apps_or_error(s, r, respond);
  if (apps.empty()) return;
  for (App* app : apps)
    if (!app->wanted_up())
      return respond(error_reply("app '" + app->name() + "' is " + to_string(app->state()) +
                                 "; start it first"));
  if (!r.wait) {
    for (App* app : apps) app->reload(nullptr);
    boost::json::object reply{{"started", true}};
    if (*r.app != "all")
      reply["app"] = apps.front()->name();
    else
      reply["apps"] = names_of(apps);
    return respond(ok_reply(std::move(reply)));
  }
  auto g = Gathered::make(std::move(respond), apps, r);
  for (App* app : apps) {
    app->reload([done = Gathered::one(g, app->name()), name = app->name()](Result<void> result) {
      if (!result) return done(result.error().prefixed("reload of '" + name + "' failed: "));
      done({});
    });
  }
}

// {"ok":false,"error":"HEADLINE:\n  item\n  item", KEY: [items]}.
boost::json::object listed_failure(const std::string& headline, const char* key,
                                   const std::vector<std::string>& items) {
  std::string message = headline;
  boost::json::array list;
  for (const auto& item : items) {
    message += "\n  " + item;
    list.emplace_back(item);
  }
  return {{"ok", false}, {"error", message}, {key, std::move(list)}};
}

// Answered once the rolling reloads and starts the new file causes are over:
// `systemctl reload` reports this exit code.
void reload_config(Supervisor& s, const ipc::Request& r, Respond respond) {
  s.reload_config(
      [respond](Supervisor::ReloadResult result) {
        if (!result.errors.empty()) {
          auto reply =
              listed_failure(result.refused_empty ? "the reload was refused; nothing was changed:"
                                                  : "the config has errors; nothing was changed:",
                             "errors", result.errors);
          return respond(boost::json::serialize(reply) + "\n");
        }
        if (!result.failures.empty()) {
          auto reply = listed_failure("the config was applied, but:", "failures", result.failures);
          reply["changes"] = std::move(result.changes);
          return respond(boost::json::serialize(reply) + "\n");
        }
        respond(ok_reply(std::move(result.changes)));
      },
      r.allow_empty);
}

// logs APP, or `all`: every app musterd has now, in config order, merged
// (merged_tail.h); a follow of all does not take in apps added later.
void logs(Supervisor& s, const ipc::Request& r, Respond respond) {
  std::vector<App*> apps;
  if (*r.app == "all") {
    for (auto& app : s.apps()) apps.push_back(app.get());
  } else if (App* app = app_or_error(s, r, respond)) {
    apps.push_back(app);
  } else {
    return;
  }
  std::size_t n = r.count ? static_cast<std::size_t>(*r.count) : 100;
  std::vector<boost::json::array> tails;
  for (App* app : apps) tails.push_back(app->output().tail(n));
  boost::json::object reply{{"lines", merge_tails(std::move(tails), n)}};
  if (auto omitted = keep_newest_within(reply["lines"].as_array(), kMaxLogsReplyBytes)) {
    reply["omitted"] = omitted;
    reply["warning"] = std::to_string(omitted) + " older line(s) left out: a logs reply holds " +
                       "at most " + std::to_string(kMaxLogsReplyBytes >> 20) + " MiB of lines";
  }
  if (!r.follow) return respond(ok_reply(std::move(reply)));
  reply["follow"] = true;
  respond(ok_reply(std::move(reply)));
  // The sinks are shared with the workers, so they outlive a removed app.
  std::vector<std::pair<std::weak_ptr<OutputSink>, std::uint64_t>> followed;
  for (App* app : apps) {
    auto id = app->output().follow([respond](const std::string& line) { respond.push(line); });
    followed.emplace_back(app->output_ptr(), id);
  }
  respond.stream([followed = std::move(followed)] {
    for (const auto& [sink, id] : followed)
      if (auto alive = sink.lock()) alive->unfollow(id);
  });
}

void shutdown(Supervisor& s, const ipc::Request&, Respond respond) {
  respond(ok_reply());
  s.shutdown("shutdown requested over the control socket");
}

using Handler = void (*)(Supervisor&, const ipc::Request&, Respond);

// One handler per verb declared in ipc/verbs.h (tests/unit/verbs_test.cc).
const std::map<std::string, Handler, std::less<>>& handlers() {
  static const std::map<std::string, Handler, std::less<>> table{
      {"ping", ping},         {"version", version},
      {"status", status},     {"describe", describe_app},
      {"start", start},       {"stop", stop},
      {"restart", restart},   {"scale", scale},
      {"reset", reset},       {"kill", kill},
      {"shutdown", shutdown}, {"disconnect", disconnect},
      {"send", send},         {"events", events},
      {"reload", reload},     {"reload-config", reload_config},
      {"logs", logs},
  };
  return table;
}

// The handler for a request: by verb, except that restart with an id (not an
// app) is restart_worker.
Handler handler_for(const ipc::Request& request) {
  if (request.verb == "restart" && request.id) return restart_worker;
  auto it = handlers().find(request.verb);
  return it == handlers().end() ? nullptr : it->second;
}

}  // namespace

std::vector<std::string> handled_verbs() {
  std::vector<std::string> out;
  for (const auto& [verb, handler] : handlers()) out.push_back(verb);
  return out;
}

void run_command(Supervisor& supervisor, const ipc::Request& request, Respond respond) {
  Handler handler = handler_for(request);
  if (!handler) return respond(error_reply("unknown verb '" + request.verb + "'"));
  try {
    handler(supervisor, request, respond);
  } catch (const std::exception& e) {
    memory_reserve::release_if_out_of_memory(e);
    spdlog::error("control: '{}' failed: {}", request.verb, e.what());
    respond(error_reply(std::string("internal error: ") + e.what()));
  }
}

}  // namespace muster::daemon
