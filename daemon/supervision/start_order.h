// `after` at run time (config/start_order.h): an app starts once every app
// it names has a ready worker, and stops before them. Waiting is
// event-driven: recheck() runs when a worker becomes ready or an app stops
// or fails (WorkerContext::start_order_changed), never on a timer.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/supervision/app.h"

namespace muster::daemon {

class EventBus;

class StartOrder {
 public:
  using Find = std::function<App*(const std::string& name)>;
  StartOrder(EventBus& events, Find find) : events_(events), find_(std::move(find)) {}

  // Starts `app` now if every app it names in `after` has a ready worker;
  // else it waits (event `waiting`, status "waiting") and starts when they
  // have. `done` as App::start's; while waiting, it also gets the reason
  // when an app waited for is stopped or fails (the app keeps waiting).
  void start(App& app, App::ReloadDone done = nullptr);
  // Why an operator's start of `app` is refused: an app it names in `after`
  // is stopped or failed and not waiting to start itself (it would never
  // get a ready worker). nullopt when it may start or wait.
  std::optional<std::string> blocked(const App& app) const;
  // `app` no longer waits (it is stopped or removed); its waiters get `why`.
  void cancel(const App& app, const std::string& why);
  // The apps `app` waits for; empty when it does not wait.
  std::vector<std::string> waiting_for(const App& app) const;
  // A worker became ready, or an app stopped or failed: starts each waiting
  // app whose `after` apps all have a ready worker now.
  void recheck();
  // Stops `apps` (cancelling their waits) dependents first: layer by layer
  // (config::start_layers), each layer's stops complete before the next
  // begins. `done` once all have stopped.
  void stop(const std::vector<App*>& apps, std::function<void()> done);

  // `apps` sorted so that each comes after those it names (stable).
  static std::vector<App*> in_start_order(std::vector<App*> apps);

 private:
  struct Waiting {
    std::string name;
    std::vector<App::ReloadDone> waiters;
  };
  // The `after` apps of `app` without a ready worker (or not found).
  std::vector<std::string> missing(const App& app) const;
  // Stopped or failed, and not about to start: never ready on its own.
  bool down(const App* app) const;
  bool is_waiting(const std::string& name) const;
  // Answers `entry`'s waiters when one of `missing_now` is down: the app
  // keeps waiting, but nothing says when it will start.
  void answer_if_down(Waiting& entry, const std::vector<std::string>& missing_now);

  EventBus& events_;
  Find find_;
  std::vector<Waiting> waiting_;  // in the order they were started
};

}  // namespace muster::daemon
