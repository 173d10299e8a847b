#include "daemon/wiring/app_watches.h"

#include <spdlog/spdlog.h>

namespace muster::daemon {
namespace {

bool same_watch(const config::AppConfig& a, const config::AppConfig& b) {
  return a.cwd == b.cwd && a.watch == b.watch && a.watch_ignore == b.watch_ignore &&
         a.watch_delay == b.watch_delay;
}

std::string listed(const ChangeBatch& batch) {
  std::string text;
  for (const auto& file : batch.files) text += (text.empty() ? "" : ", ") + file;
  if (batch.count > batch.files.size())
    text += " and " + std::to_string(batch.count - batch.files.size()) + " more";
  return text;
}

}  // namespace

AppWatches::AppWatches(boost::asio::io_context& io, EventBus& events, FindApp find_app)
    : io_(io), events_(events), find_app_(std::move(find_app)) {}

void AppWatches::follow(const config::Config& config) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    const config::AppConfig* app = config.find_app(it->first);
    if (app && !app->watch.empty() && same_watch(*app, it->second.settings)) {
      ++it;
      continue;
    }
    spdlog::info("{}: watch stopped", it->first);
    it->second.watch->stop();
    it = entries_.erase(it);
  }
  for (const auto& app : config.apps)
    if (!app.watch.empty() && !entries_.count(app.name)) start(app);
}

void AppWatches::stop_all() {
  for (auto& [name, entry] : entries_) entry.watch->stop();
  entries_.clear();
}

void AppWatches::start(const config::AppConfig& app) {
  const std::string name = app.name;
  auto warn = [this, name](const std::string& message) {
    events_.publish("watch", name, {{"warning", message}});
  };
  auto watch = AppWatch::start(
      io_, app, [this, name](ChangeBatch batch) { changed(name, batch); }, warn);
  if (!watch) {
    spdlog::error("{}: watch: {}", name, watch.error().message);
    warn(watch.error().message);
    return;
  }
  spdlog::info("{}: watching for changes (development: each change reloads the app)", name);
  entries_[name] = Entry{app, std::move(watch).value(), {}};
}

void AppWatches::changed(const std::string& app, const ChangeBatch& batch) {
  boost::json::array files;
  for (const auto& file : batch.files) files.emplace_back(file);
  events_.publish(
      "watch", app,
      {{"file", batch.files.front()}, {"files", std::move(files)}, {"count", batch.count}});
  auto entry = entries_.find(app);
  App* found = find_app_(app);
  if (entry == entries_.end() || found == nullptr) return;
  if (!found->wanted_up()) {
    spdlog::info("{}: changed ({}); not reloaded: the app is {}", app, listed(batch),
                 to_string(found->state()));
    return;
  }
  if (!entry->second.reloads.request()) {
    spdlog::info("{}: changed ({}); one more reload after the one under way", app, listed(batch));
    return;
  }
  spdlog::info("{}: changed ({}); reloading", app, listed(batch));
  reload(app);
}

void AppWatches::reload(const std::string& app) {
  App* found = find_app_(app);
  if (found == nullptr || !found->wanted_up()) {  // removed or stopped meanwhile
    if (auto entry = entries_.find(app); entry != entries_.end()) entry->second.reloads = {};
    return;
  }
  found->reload([this, app](Result<void> result) {
    if (!result) spdlog::warn("{}: reload after a change failed: {}", app, result.error().message);
    auto entry = entries_.find(app);
    if (entry != entries_.end() && entry->second.reloads.finished()) reload(app);
  });
}

}  // namespace muster::daemon
