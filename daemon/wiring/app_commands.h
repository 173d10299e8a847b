// The control verbs that start and stop apps (start, stop, restart), in the
// order `after` gives (daemon/supervision/start_order.h), and what verbs on
// one app or on `all` share. Handlers for the table in commands.cc.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "daemon/control/control_server.h"
#include "daemon/supervision/app.h"
#include "ipc/control_protocol.h"

namespace muster::daemon {

class Supervisor;

namespace app_commands {

using Respond = ControlServer::Respond;

// Looks the request's app up, or answers the error and returns null.
App* app_or_error(Supervisor& s, const ipc::Request& r, const Respond& respond);
// The apps a request names: one, or every app for "all" (config order).
// Empty (the error answered) if there is no such app.
std::vector<App*> apps_or_error(Supervisor& s, const ipc::Request& r, const Respond& respond);
boost::json::array names_of(const std::vector<App*>& apps);

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
                                        const ipc::Request& r);
  // The completion of one app's part.
  static App::ReloadDone one(std::shared_ptr<Gathered> g, std::string name);
  void finish();
};

// Each app once the apps it starts after have a ready worker; refused for
// an app one of which is stopped or failed (StartOrder::blocked).
void start(Supervisor& s, const ipc::Request& r, Respond respond);
// Dependents first, each layer stopped before the next (StartOrder::stop).
void stop(Supervisor& s, const ipc::Request& r, Respond respond);
// stop, then start, in those orders.
void restart(Supervisor& s, const ipc::Request& r, Respond respond);

}  // namespace app_commands
}  // namespace muster::daemon
