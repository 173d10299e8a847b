#include "daemon/supervision/start_order.h"

#include <spdlog/spdlog.h>
#include <algorithm>

#include "config/start_order.h"
#include "daemon/common/events.h"

namespace muster::daemon {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// The layer of each of `apps` (config::start_layers of their configs).
std::vector<unsigned> layers_of(const std::vector<App*>& apps) {
  std::vector<const config::AppConfig*> configs;
  for (App* app : apps) configs.push_back(&app->config());
  return config::start_layers(configs);
}

}  // namespace

std::vector<std::string> StartOrder::missing(const App& app) const {
  std::vector<std::string> out;
  for (const std::string& name : app.config().after) {
    App* dep = find_(name);
    bool ready = false;
    if (dep)
      for (Worker* w : dep->workers()) ready = ready || w->ready_now();
    if (!ready) out.push_back(name);
  }
  return out;
}

bool StartOrder::is_waiting(const std::string& name) const {
  return std::any_of(waiting_.begin(), waiting_.end(),
                     [&](const Waiting& w) { return w.name == name; });
}

bool StartOrder::down(const App* app) const {
  return !app || (!app->wanted_up() && !app->stopping() && !is_waiting(app->name()));
}

void StartOrder::start(App& app, App::ReloadDone done) {
  auto entry = std::find_if(waiting_.begin(), waiting_.end(),
                            [&](const Waiting& w) { return w.name == app.name(); });
  if (entry != waiting_.end()) {
    if (done) entry->waiters.push_back(std::move(done));
    return;
  }
  auto missing_now = missing(app);
  if (missing_now.empty() || app.wanted_up()) return app.start(std::move(done));
  spdlog::info("{}: waiting for {} to have a ready worker (after)", app.name(),
               joined(missing_now));
  boost::json::array names;
  for (const auto& name : missing_now) names.emplace_back(name);
  events_.publish("waiting", app.name(), {{"for", std::move(names)}});
  waiting_.push_back({app.name(), {}});
  if (done) waiting_.back().waiters.push_back(std::move(done));
  answer_if_down(waiting_.back(), missing_now);
}

std::optional<std::string> StartOrder::blocked(const App& app) const {
  for (const std::string& name : app.config().after) {
    const App* dep = find_(name);
    if (!down(dep)) continue;
    std::string state = dep ? to_string(dep->state()) : "not in the config";
    return "app '" + app.name() + "' starts after '" + name + "', which is " + state + "; start '" +
           name + "' first (or start all)";
  }
  return std::nullopt;
}

void StartOrder::cancel(const App& app, const std::string& why) {
  auto entry = std::find_if(waiting_.begin(), waiting_.end(),
                            [&](const Waiting& w) { return w.name == app.name(); });
  if (entry == waiting_.end()) return;
  auto waiters = std::move(entry->waiters);
  waiting_.erase(entry);
  for (auto& done : waiters) done(Error{why});
}

std::vector<std::string> StartOrder::waiting_for(const App& app) const {
  return is_waiting(app.name()) ? missing(app) : std::vector<std::string>{};
}

void StartOrder::recheck() {
  // Starting an app may answer clients, never call back here: the list is
  // walked by name, each entry taken out before its app starts.
  std::vector<std::string> names;
  for (const auto& w : waiting_) names.push_back(w.name);
  for (const auto& name : names) {
    auto entry = std::find_if(waiting_.begin(), waiting_.end(),
                              [&](const Waiting& w) { return w.name == name; });
    if (entry == waiting_.end()) continue;
    App* app = find_(name);
    if (!app) {
      auto waiters = std::move(entry->waiters);
      waiting_.erase(entry);
      for (auto& done : waiters) done(Error{"app '" + name + "' was removed while it waited"});
      continue;
    }
    auto missing_now = missing(*app);
    if (missing_now.empty()) {
      auto waiters = std::move(entry->waiters);
      waiting_.erase(entry);
      spdlog::info("{}: the apps it starts after have a ready worker", name);
      if (waiters.empty()) app->start();
      for (auto& done : waiters) app->start(std::move(done));
      continue;
    }
    answer_if_down(*entry, missing_now);
  }
}

void StartOrder::answer_if_down(Waiting& entry, const std::vector<std::string>& missing_now) {
  for (const auto& dep_name : missing_now) {
    const App* dep = find_(dep_name);
    if (entry.waiters.empty() || !down(dep)) continue;
    auto waiters = std::move(entry.waiters);
    entry.waiters.clear();
    std::string state = dep ? to_string(dep->state()) : "not in the config";
    for (auto& done : waiters)
      done(Error{"app '" + entry.name + "' waits for '" + dep_name + "', which is " + state +
                 "; it starts once '" + dep_name + "' has a ready worker"});
    return;
  }
}

std::vector<App*> StartOrder::in_start_order(std::vector<App*> apps) {
  auto layers = layers_of(apps);
  std::vector<std::size_t> index(apps.size());
  for (std::size_t i = 0; i < index.size(); ++i) index[i] = i;
  std::stable_sort(index.begin(), index.end(),
                   [&](std::size_t a, std::size_t b) { return layers[a] < layers[b]; });
  std::vector<App*> out;
  for (std::size_t i : index) out.push_back(apps[i]);
  return out;
}

namespace {

// A stop in layers, the last layer first; apps freed meanwhile are skipped.
struct StopRun {
  std::vector<std::vector<std::pair<App*, std::weak_ptr<bool>>>> layers;
  std::function<void()> done;
};

void stop_next_layer(const std::shared_ptr<StopRun>& run) {
  while (!run->layers.empty()) {
    auto layer = std::move(run->layers.back());
    run->layers.pop_back();
    std::vector<App*> live;
    for (auto& [app, alive] : layer)
      if (!alive.expired()) live.push_back(app);
    if (live.empty()) continue;
    auto left = std::make_shared<std::size_t>(live.size());
    for (App* app : live)
      app->stop([run, left] {
        if (--*left == 0) stop_next_layer(run);
      });
    return;
  }
  if (auto done = std::move(run->done)) done();
}

}  // namespace

void StartOrder::stop(const std::vector<App*>& apps, std::function<void()> done) {
  for (App* app : apps) cancel(*app, "the app was stopped");
  auto layers = layers_of(apps);
  auto run = std::make_shared<StopRun>();
  run->done = std::move(done);
  unsigned top = layers.empty() ? 0 : *std::max_element(layers.begin(), layers.end());
  run->layers.resize(top + 1);
  for (std::size_t i = 0; i < apps.size(); ++i)
    run->layers[layers[i]].emplace_back(apps[i], apps[i]->lifetime());
  stop_next_layer(run);
}

}  // namespace muster::daemon
