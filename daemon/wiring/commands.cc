#include "daemon/wiring/commands.h"

#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <map>
#include <optional>

#include "base/version.h"
#include "daemon/common/memory_reserve.h"
#include "daemon/observe/status_json.h"
#include "daemon/output/merged_tail.h"
#include "daemon/wiring/app_commands.h"
#include "daemon/wiring/describe_command.h"
#include "daemon/wiring/named_apps.h"
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
  if (!app) respond(error_reply(no_such_app(s, *r.app)));
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
  if (!r.app) return respond(ok_reply(status_reply_fields(snapshot)));
  auto names = s.config().apps_named(*r.app);
  if (!names) return respond(error_reply(no_such_app(s, *r.app)));
  std::vector<const AppSnapshot*> only;
  for (const auto& name : *names)
    if (const AppSnapshot* app = snapshot.find_app(name)) only.push_back(app);
  respond(ok_reply(status_reply_fields(snapshot, only)));
}

void scale(Supervisor& s, const ipc::Request& r, Respond respond) {
  if (*r.count > config::kMaxInstances)
    return respond(
        error_reply("at most " + std::to_string(config::kMaxInstances) + " instances per app"));
  // A count is per app: for several, each would want its own.
  if (auto why = one_app_only(s, "scale", *r.app)) return respond(error_reply(*why));
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
  auto apps = apps_or_error(s, *r.app, respond);
  if (apps.empty()) return;
  for (App* app : apps) app->reset_history();
  respond(ok_reply(named_field(apps, *r.app)));
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
    auto apps = apps_or_error(s, *r.app, respond);
    if (apps.empty()) return;
    for (App* app : apps)
      for (Worker* w : app->workers()) targets.push_back(w);
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
  auto apps = apps_or_error(s, *r.app, respond);
  if (apps.empty()) return;
  for (App* app : apps)
    if (!app->wanted_up())
      return respond(error_reply("app '" + app->name() + "' is " + to_string(app->state()) +
                                 "; start it first"));
  if (!r.wait) {
    for (App* app : apps) app->reload(nullptr);
    boost::json::object reply = named_field(apps, *r.app);
    reply["started"] = true;
    return respond(ok_reply(std::move(reply)));
  }
  auto g = Gathered::make(std::move(respond), apps, *r.app);
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

// logs APP, a group or `all`: each app's, merged (merged_tail.h); a follow
// of all does not take in apps added later.
void logs(Supervisor& s, const ipc::Request& r, Respond respond) {
  auto names = s.config().apps_named(*r.app);
  if (!names) return respond(error_reply(no_such_app(s, *r.app)));
  std::vector<App*> apps;
  for (const auto& name : *names)
    if (App* app = s.find_app(name)) apps.push_back(app);
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

// Only root or musterd's own user: the new binary runs as musterd, so a
// control_group member who could name one would run it as musterd's user
// (root under the packaged unit), a power no other verb gives.
void upgrade(Supervisor& s, const ipc::Request& r, Respond respond) {
  uid_t peer = respond.peer_uid();
  if (peer != 0 && peer != ::geteuid()) {
    respond(error_reply("upgrade refused: only root or musterd's own user (uid " +
                        std::to_string(::geteuid()) + ") may upgrade it; you are uid " +
                        std::to_string(peer)));
    return;
  }
  s.upgrade(r.binary.value_or(""), respond);
}

using Handler = void (*)(Supervisor&, const ipc::Request&, Respond);

// One handler per verb declared in ipc/verbs.h (tests/unit/verbs_test.cc).
const std::map<std::string, Handler, std::less<>>& handlers() {
  static const std::map<std::string, Handler, std::less<>> table{
      {"ping", ping},
      {"version", version},
      {"status", status},
      {"describe", describe_app},
      {"start", app_commands::start},
      {"stop", app_commands::stop},
      {"restart", app_commands::restart},
      {"scale", scale},
      {"reset", reset},
      {"kill", kill},
      {"shutdown", shutdown},
      {"disconnect", disconnect},
      {"send", send},
      {"events", events},
      {"reload", reload},
      {"reload-config", reload_config},
      {"logs", logs},
      {"upgrade", upgrade},
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
