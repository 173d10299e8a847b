// What a verb's APP names: one app, a group's members, or every app for
// "all" (config::Config::apps_named, the one place they are expanded), and
// one reply gathered from the part each of them plays.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/control/control_server.h"
#include "daemon/supervision/app.h"

namespace muster::daemon {

class Supervisor;

// "no app named 'x'" (with groups in the config: "no app or group named").
std::string no_such_app(const Supervisor& s, const std::string& name);

// For a verb that takes one app (scale, describe) given a group's name: why
// not, naming the members ("scale takes one app, and 'backend' is a group
// (api, jobs): scale each app"); nullopt for any other name.
std::optional<std::string> one_app_only(const Supervisor& s, const std::string& verb,
                                        const std::string& name);

// The apps `name` stands for, in config order. Empty (the error answered)
// if there is no app or group of that name, or no app at all.
std::vector<App*> apps_or_error(Supervisor& s, const std::string& name,
                                const ControlServer::Respond& respond);

boost::json::array names_of(const std::vector<App*>& apps);

// One reply for a verb run on the apps of one name: ok once each app is
// done, else the failures, one per line ("app: reason" when the name was
// "all" or a group). The reply names the app, or the apps ("apps").
struct Gathered {
  explicit Gathered(ControlServer::Respond r) : respond(std::move(r)) {}
  ControlServer::Respond respond;
  bool several = false;  // the name was "all" or a group
  std::size_t left = 0;
  boost::json::array names;
  std::vector<std::string> errors;

  static std::shared_ptr<Gathered> make(ControlServer::Respond respond,
                                        const std::vector<App*>& apps, const std::string& name);
  // The completion of one app's part.
  static App::ReloadDone one(std::shared_ptr<Gathered> g, std::string name);
  void finish();
};

// {"app": NAME} for one app named as itself, else {"apps": [...]}.
boost::json::object named_field(const std::vector<App*>& apps, const std::string& name);

}  // namespace muster::daemon
