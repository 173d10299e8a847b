// Supervisor::apply_config_file: validate the whole new file, bind what it adds,
// and only then change anything, so a bad file or a failed bind leaves the
// running config untouched.
#include "daemon/wiring/config_reload.h"

#include <spdlog/spdlog.h>

#include <variant>

#include <boost/asio/post.hpp>

#include "config/file_safety.h"
#include "daemon/output/logging.h"
#include "daemon/wiring/supervisor.h"

namespace muster::daemon {
namespace {

boost::json::array to_json(const std::vector<std::string>& names) {
  boost::json::array out;
  for (const auto& n : names) out.emplace_back(n);
  return out;
}

boost::json::object describe(const ConfigDiff& d) {
  return {{"apps_added", to_json(d.apps_added)},
          {"apps_removed", to_json(d.apps_removed)},
          {"apps_reloaded", to_json(d.apps_reloaded)},
          {"apps_updated", to_json(d.apps_updated)},
          {"sockets_added", to_json(d.sockets_added)},
          {"sockets_removed", to_json(d.sockets_removed)},
          {"sockets_rebound", to_json(d.sockets_rebound)},
          {"warnings", to_json(d.warnings)}};
}

// Why a file with no apps is not applied while `running` has some.
std::string every_app_removed(const config::Config& running) {
  std::string names;
  for (const auto& app : running.apps) names += (names.empty() ? "" : ", ") + app.name;
  return running.path + ": the file has no apps: applying it would remove every app (" + names +
         ") and stop all their workers, so it is refused and nothing was changed. A config "
         "file caught mid-write can look like this: write the new config to a temporary file "
         "and rename it over this one. To remove every app on purpose: musterctl "
         "reload-config --allow-empty (SIGHUP never does)";
}

// The file as it would be applied, or why it is refused: unsafe to read,
// invalid, or removing every app without `allow_empty`.
std::variant<config::Config, Supervisor::ReloadResult> read_next_config(
    const config::Config& running, bool allow_empty) {
  if (auto unsafe = config::refuse_unsafe_config(running.path)) {
    spdlog::error("reload-config: {}: {}; the running config is unchanged", running.path, *unsafe);
    return Supervisor::ReloadResult{{running.path + ": " + *unsafe}, {}, {}};
  }
  // The same choice of environment as at start: musterd's --environment and
  // MUSTER_ENVIRONMENT are as they were, [daemon] environment as the file is now.
  config::LoadOptions options;
  options.host = config::HostChecks::run;
  if (running.environment_source == config::EnvironmentSource::option)
    options.environment = running.environment;
  auto loaded = config::load_file(running.path, options);
  if (!loaded.config) {
    Supervisor::ReloadResult result;
    for (const auto& e : loaded.errors) {
      spdlog::error("reload-config: {}", e.to_string());
      result.errors.push_back(e.to_string());
    }
    spdlog::error("reload-config: {} error(s); the running config is unchanged",
                  loaded.errors.size());
    return result;
  }
  config::Config next = std::move(*loaded.config);
  if (next.apps.empty() && !running.apps.empty() && !allow_empty) {
    std::string why = every_app_removed(running);
    spdlog::error("reload-config: {}", why);
    Supervisor::ReloadResult result{{why}, {}, {}};
    result.refused_empty = true;
    return result;
  }
  return next;
}

// Binds the sockets `diff` adds or rebinds (but those bound per slot when
// workers start) into `bound`; the error of the first that fails.
Result<void> bind_new_sockets(const config::Config& next, const ConfigDiff& diff,
                              std::vector<std::unique_ptr<ListenSocket>>& bound) {
  std::vector<std::string> to_bind = diff.sockets_added;
  to_bind.insert(to_bind.end(), diff.sockets_rebound.begin(), diff.sockets_rebound.end());
  for (const auto& name : to_bind) {
    const config::SocketConfig& s = *next.find_socket(name);
    bool per_slot = false;
    for (const auto& app : next.apps)
      per_slot = per_slot || (app.scheduling == config::Scheduling::reuseport &&
                              std::count(app.sockets.begin(), app.sockets.end(), name));
    if (per_slot) continue;  // bound per slot when workers start
    auto result = bind_listen(s);
    if (!result) {
      Error err = result.error().prefixed("sockets." + name + ": ");
      spdlog::error("reload-config: {}; the running config is unchanged", err.message);
      return err;
    }
    bound.push_back(std::make_unique<ListenSocket>(s, std::move(result).value(), false));
  }
  return {};
}

bool contains(const std::vector<std::string>& v, const std::string& n) {
  return std::find(v.begin(), v.end(), n) != v.end();
}

}  // namespace

// The reply waits for every rolling reload and first start this causes.
struct Supervisor::PendingReload {
  ReloadResult result;
  std::size_t left = 1;  // the pass over the apps
  ReloadDone done;

  void one_done() {
    if (--left > 0) return;
    if (result.failures.empty()) spdlog::info("reload-config: every app took its new settings");
    if (done) done(std::move(result));
  }
};

void Supervisor::apply_config_file(ReloadDone done, bool allow_empty) {
  auto read = read_next_config(config_, allow_empty);
  if (auto* refused = std::get_if<ReloadResult>(&read)) return done(std::move(*refused));
  config::Config next = std::move(std::get<config::Config>(read));
  ConfigDiff diff = diff_configs(config_, next);
  for (const auto& w : diff.warnings) spdlog::warn("reload-config: {}", w);

  // A first systemd-protocol app needs the notify socket before its
  // workers start; a failure to open it changes nothing.
  if (auto opened = open_notify_socket(next); !opened) {
    const std::string& err = opened.error().message;
    spdlog::error("reload-config: {}; the running config is unchanged", err);
    return done(ReloadResult{{err}, {}, {}});
  }

  // Bind everything new first: a failure here changes nothing.
  std::vector<std::unique_ptr<ListenSocket>> bound;
  if (auto bound_all = bind_new_sockets(next, diff, bound); !bound_all)
    return done(ReloadResult{{bound_all.error().message}, {}, {}});

  // The new apps (their slots, one per instance) and the reply are made
  // before anything changes: running out of memory for them refuses the
  // reload as a whole, with everything as it was.
  std::vector<std::unique_ptr<App>> added;
  for (const auto& name : diff.apps_added)
    added.push_back(std::make_unique<App>(io_, context_, *next.find_app(name),
                                          [this] { return ++last_worker_id_; }));
  apps_.reserve(apps_.size() + added.size());
  auto summary = describe(diff);

  // From here on nothing can fail (but for memory once more, for what little
  // the steps below allocate).
  for (const auto& name : diff.sockets_rebound) sockets_.retire(name);
  for (const auto& name : diff.sockets_removed) sockets_.retire(name);
  for (auto& socket : bound) {
    spdlog::info("socket {} listening on {}", socket->config().name, socket->bound());
    sockets_.add(std::move(socket));
  }

  config::Config old = std::move(config_);
  config_ = std::move(next);
  if (config_.daemon.log_level != old.daemon.log_level ||
      config_.daemon.log_format != old.daemon.log_format)
    setup_logging(config_.daemon.log_level, config_.daemon.log_format);

  remove_apps(diff.apps_removed);
  auto waiting = std::make_shared<PendingReload>();
  waiting->done = std::move(done);
  apply_app_changes(diff, added, old, waiting);
  watches_.follow(config_);
  sockets_.sweep_retired();
  events_.publish("setup", "", summary);
  spdlog::info("reload-config: applied ({})", diff.empty() ? "no changes" : "see the setup event");
  waiting->result.changes = std::move(summary);
  waiting->one_done();
}

void Supervisor::remove_apps(const std::vector<std::string>& names) {
  for (const auto& name : names) {
    App* app = find_app(name);
    spdlog::info("reload-config: removing app {}", name);
    start_order_.cancel(*app, "app '" + name + "' was removed from the config");
    app->mark_removed();
    app->stop([this, app] {
      // Posted: we are inside the app's own exit handling here.
      boost::asio::post(
          io_, [this, app] { std::erase_if(apps_, [app](auto& a) { return a.get() == app; }); });
    });
  }
}

void Supervisor::apply_app_changes(const ConfigDiff& diff, std::vector<std::unique_ptr<App>>& added,
                                   const config::Config& old,
                                   const std::shared_ptr<PendingReload>& waiting) {
  std::vector<App*> fresh;
  for (const auto& app_config : config_.apps) {
    const std::string& name = app_config.name;
    if (contains(diff.apps_added, name)) {
      auto made = std::find_if(added.begin(), added.end(),
                               [&](const auto& a) { return a->name() == name; });
      spdlog::info("reload-config: adding app {}", name);
      fresh.push_back(made->get());
      apps_.push_back(std::move(*made));
      continue;
    }
    bool rolling = contains(diff.apps_reloaded, name);
    if (!rolling && !contains(diff.apps_updated, name)) continue;
    update_app(app_config, *old.find_app(name), rolling, waiting);
  }
  // Once every new app is known: each after those it names in `after`.
  for (App* app : StartOrder::in_start_order(fresh)) start_added_app(*app, waiting);
}

void Supervisor::start_added_app(App& app, const std::shared_ptr<PendingReload>& waiting) {
  std::string name = app.name();
  if (!app.config().autostart) {
    spdlog::info("{}: autostart = false: not started until 'musterctl start {}'", name, name);
    return;
  }
  ++waiting->left;
  // After the apps it names in `after` have a ready worker.
  start_order_.start(app, [waiting, name](Result<void> result) {
    if (!result) {
      const std::string& why = result.error().message;
      spdlog::error("reload-config: the new app {} did not start: {}", name, why);
      waiting->result.failures.push_back(name + ": did not start: " + why);
    }
    waiting->one_done();
  });
}

void Supervisor::update_app(const config::AppConfig& app_config, const config::AppConfig& previous,
                            bool rolling, const std::shared_ptr<PendingReload>& waiting) {
  const std::string& name = app_config.name;
  App* app = find_app(name);
  config::AppConfig wanted = app_config;
  // A runtime `scale` stands unless the file's instances changed.
  if (previous.instances == wanted.instances) wanted.instances = app->config().instances;
  spdlog::info("reload-config: {} app {}", rolling ? "rolling reload of" : "new settings for",
               name);
  ++waiting->left;
  app->update_config(wanted, rolling, [this, waiting, name, previous](Result<void> result) {
    if (!result) {
      // The app went back to its previous settings: so does the config
      // in force, so that the next reload-config compares against them.
      for (auto& a : config_.apps)
        if (a.name == name) a = previous;
      waiting->result.failures.push_back(name + ": " + result.error().message +
                                         "; it keeps its previous settings");
    }
    waiting->one_done();
  });
}

}  // namespace muster::daemon
