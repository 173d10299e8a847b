// Supervisor::apply_config_file: validate the whole new file, bind what it adds,
// and only then change anything, so a bad file or a failed bind leaves the
// running config untouched.
#include "daemon/config_reload.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "config/file_safety.h"
#include "daemon/logging.h"
#include "daemon/supervisor.h"

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

}  // namespace

void Supervisor::apply_config_file(ReloadDone done, bool allow_empty) {
  if (auto unsafe = config::refuse_unsafe_config(config_.path)) {
    spdlog::error("reload-config: {}: {}; the running config is unchanged", config_.path, *unsafe);
    return done(ReloadResult{{config_.path + ": " + *unsafe}, {}, {}});
  }
  auto loaded = config::load_file(config_.path, config::HostChecks::run);
  if (!loaded.config) {
    ReloadResult result;
    for (const auto& e : loaded.errors) {
      spdlog::error("reload-config: {}", e.to_string());
      result.errors.push_back(e.to_string());
    }
    spdlog::error("reload-config: {} error(s); the running config is unchanged",
                  loaded.errors.size());
    return done(std::move(result));
  }
  config::Config next = std::move(*loaded.config);
  if (next.apps.empty() && !config_.apps.empty() && !allow_empty) {
    std::string why = every_app_removed(config_);
    spdlog::error("reload-config: {}", why);
    ReloadResult result{{why}, {}, {}};
    result.refused_empty = true;
    return done(std::move(result));
  }
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
    if (auto* err = std::get_if<BindError>(&result)) {
      std::string msg = "sockets." + name + ": " + err->message;
      spdlog::error("reload-config: {}; the running config is unchanged", msg);
      return done(ReloadResult{{msg}, {}, {}});
    }
    bound.push_back(std::make_unique<ListenSocket>(s, std::move(std::get<BoundSocket>(result)), false));
  }

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

  for (const auto& name : diff.apps_removed) {
    App* app = find_app(name);
    spdlog::info("reload-config: removing app {}", name);
    app->mark_removed();
    app->stop([this, app] {
      // Posted: we are inside the app's own exit handling here.
      boost::asio::post(io_, [this, app] {
        std::erase_if(apps_, [app](auto& a) { return a.get() == app; });
      });
    });
  }
  auto in = [](const std::vector<std::string>& v, const std::string& n) {
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  // The reply waits for every rolling reload and first start this causes.
  struct Waiting {
    ReloadResult result;
    std::size_t left = 1;  // the loop below
    ReloadDone done;
  };
  auto waiting = std::make_shared<Waiting>();
  waiting->done = std::move(done);
  auto one_done = [waiting] {
    if (--waiting->left > 0) return;
    if (waiting->result.failures.empty())
      spdlog::info("reload-config: every app took its new settings");
    if (waiting->done) waiting->done(std::move(waiting->result));
  };
  for (const auto& app_config : config_.apps) {
    const std::string& name = app_config.name;
    if (in(diff.apps_added, name)) {
      spdlog::info("reload-config: adding app {}", name);
      auto made = std::find_if(added.begin(), added.end(),
                               [&](const auto& a) { return a->name() == name; });
      apps_.push_back(std::move(*made));
      ++waiting->left;
      apps_.back()->start([waiting, one_done, name](std::optional<std::string> error) {
        if (error) {
          spdlog::error("reload-config: the new app {} did not start: {}", name, *error);
          waiting->result.failures.push_back(name + ": did not start: " + *error);
        }
        one_done();
      });
      continue;
    }
    bool rolling = in(diff.apps_reloaded, name);
    if (!rolling && !in(diff.apps_updated, name)) continue;
    App* app = find_app(name);
    config::AppConfig wanted = app_config;
    // A runtime `scale` stands unless the file's instances changed.
    if (const auto* was = old.find_app(name); was && was->instances == wanted.instances)
      wanted.instances = app->config().instances;
    spdlog::info("reload-config: {} app {}", rolling ? "rolling reload of" : "new settings for",
                 name);
    ++waiting->left;
    app->update_config(wanted, rolling,
                       [this, waiting, one_done, name, previous = *old.find_app(name)](
                           std::optional<std::string> error) {
      if (error) {
        // The app went back to its previous settings: so does the config
        // in force, so that the next reload-config compares against them.
        for (auto& a : config_.apps)
          if (a.name == name) a = previous;
        waiting->result.failures.push_back(name + ": " + *error +
                                           "; it keeps its previous settings");
      }
      one_done();
    });
  }
  sockets_.sweep_retired();
  events_.publish("setup", "", summary);
  spdlog::info("reload-config: applied ({})", diff.empty() ? "no changes" : "see the setup event");
  waiting->result.changes = std::move(summary);
  one_done();
}

}  // namespace muster::daemon
