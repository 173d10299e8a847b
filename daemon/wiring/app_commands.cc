// start, stop and restart of apps (commands.cc has the table of every verb).
#include "daemon/wiring/app_commands.h"

#include <utility>

#include "daemon/wiring/named_apps.h"
#include "daemon/wiring/supervisor.h"

namespace muster::daemon::app_commands {

using ipc::error_reply;

namespace {

// Starts `app` through the start order; answers `done` at once unless `wait`.
void start_one(Supervisor& s, App& app, bool wait, App::ReloadDone done) {
  // A refusal (the app is stopping) is answered even with --no-wait.
  if (wait || app.stopping()) return s.start_order().start(app, std::move(done));
  s.start_order().start(app);
  done({});
}

}  // namespace

void start(Supervisor& s, const ipc::Request& r, Respond respond) {
  auto apps = apps_or_error(s, *r.app, respond);
  if (apps.empty()) return;
  auto g = Gathered::make(std::move(respond), apps, *r.app);
  // In start order: with "all", each app's `after` apps are on their way first.
  for (App* app : StartOrder::in_start_order(apps)) {
    auto done = Gathered::one(g, app->name());
    if (auto why = s.start_order().blocked(*app)) {
      done(Error{*why});
      continue;
    }
    start_one(s, *app, r.wait, std::move(done));
  }
}

void stop(Supervisor& s, const ipc::Request& r, Respond respond) {
  auto apps = apps_or_error(s, *r.app, respond);
  if (apps.empty()) return;
  auto g = Gathered::make(std::move(respond), apps, *r.app);
  std::vector<App::ReloadDone> dones;
  for (App* app : apps) dones.push_back(Gathered::one(g, app->name()));
  s.start_order().stop(apps, [dones = std::move(dones)] {
    for (const auto& done : dones) done({});
  });
}

void restart(Supervisor& s, const ipc::Request& r, Respond respond) {
  auto apps = apps_or_error(s, *r.app, respond);
  if (apps.empty()) return;
  // One app whose `after` apps are down would stop and never start again.
  if (apps.size() == 1)
    if (auto why = s.start_order().blocked(*apps.front())) return respond(error_reply(*why));
  auto g = Gathered::make(std::move(respond), apps, *r.app);
  // Found again by name once stopped: a reload-config may have removed it
  // meanwhile. A stop asked for after this one wins over the start.
  std::vector<std::pair<std::string, unsigned>> stops;
  for (App* app : StartOrder::in_start_order(apps))
    stops.emplace_back(app->name(), app->stops() + 1);
  s.start_order().stop(apps, [&s, g, stops = std::move(stops), wait = r.wait] {
    for (const auto& [name, stop_count] : stops) {
      auto done = Gathered::one(g, name);
      // A shutdown that began meanwhile wins: do not start workers again.
      if (s.shutting_down()) {
        done(Error{"musterd is shutting down"});
        continue;
      }
      App* again = s.find_app(name);
      if (!again) {
        done(Error{"app '" + name + "' was removed while it was stopping"});
      } else if (again->stops() != stop_count) {
        done(Error{"app '" + name + "' was stopped again while restarting; it stays stopped"});
      } else {
        start_one(s, *again, wait, std::move(done));
      }
    }
  });
}

}  // namespace muster::daemon::app_commands
