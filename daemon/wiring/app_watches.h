// The apps' `watch` (development): one AppWatch per app that has one, kept in
// step with the config at start and at each reload-config; a batch of
// changes publishes a `watch` event and rolls a reload of the app (as
// `musterctl reload APP` does), one at a time with at most one more queued.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "config/config.h"
#include "daemon/common/events.h"
#include "daemon/supervision/app.h"
#include "daemon/watch/app_watch.h"
#include "daemon/watch/debounce.h"

namespace muster::daemon {

class AppWatches {
 public:
  using FindApp = std::function<App*(const std::string&)>;
  AppWatches(boost::asio::io_context& io, EventBus& events, FindApp find_app);

  // Starts, restarts or stops each app's watch so that it follows `config`
  // (an app whose watch settings and cwd did not change keeps its watch).
  void follow(const config::Config& config);
  // Stops every watch (shutdown).
  void stop_all();

 private:
  struct Entry {
    config::AppConfig settings;  // what the watch was started with
    std::shared_ptr<AppWatch> watch;
    ReloadQueue reloads;
  };
  void start(const config::AppConfig& app);
  void changed(const std::string& app, const ChangeBatch& batch);
  void reload(const std::string& app);

  boost::asio::io_context& io_;
  EventBus& events_;
  FindApp find_app_;
  std::map<std::string, Entry> entries_;
};

}  // namespace muster::daemon
