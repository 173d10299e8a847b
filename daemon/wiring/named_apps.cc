#include "daemon/wiring/named_apps.h"

#include "daemon/wiring/supervisor.h"
#include "ipc/control_protocol.h"

namespace muster::daemon {

using ipc::error_reply;
using ipc::ok_reply;

std::string no_such_app(const Supervisor& s, const std::string& name) {
  return std::string(s.config().groups.empty() ? "no app named '" : "no app or group named '") +
         config::printable(name) + "'";
}

std::optional<std::string> one_app_only(const Supervisor& s, const std::string& verb,
                                        const std::string& name) {
  const config::GroupConfig* group = s.config().find_group(name);
  if (group == nullptr) return std::nullopt;
  std::string members;
  for (const auto& app : group->apps) members += (members.empty() ? "" : ", ") + app;
  return verb + " takes one app, and '" + group->name + "' is a group (" + members + "): " + verb +
         " each app";
}

std::vector<App*> apps_or_error(Supervisor& s, const std::string& name,
                                const ControlServer::Respond& respond) {
  std::vector<App*> out;
  auto names = s.config().apps_named(name);
  if (!names) {
    respond(error_reply(no_such_app(s, name)));
    return out;
  }
  for (const auto& app_name : *names)
    if (App* app = s.find_app(app_name)) out.push_back(app);
  if (out.empty()) respond(error_reply("there are no apps"));
  return out;
}

boost::json::array names_of(const std::vector<App*>& apps) {
  boost::json::array out;
  for (App* app : apps) out.emplace_back(app->name());
  return out;
}

boost::json::object named_field(const std::vector<App*>& apps, const std::string& name) {
  if (apps.size() == 1 && apps.front()->name() == name) return {{"app", name}};
  return {{"apps", names_of(apps)}};
}

std::shared_ptr<Gathered> Gathered::make(ControlServer::Respond respond,
                                         const std::vector<App*>& apps, const std::string& name) {
  auto g = std::make_shared<Gathered>(std::move(respond));
  g->several = !(apps.size() == 1 && apps.front()->name() == name);
  g->left = apps.size();
  g->names = names_of(apps);
  return g;
}

App::ReloadDone Gathered::one(std::shared_ptr<Gathered> g, std::string name) {
  return [g = std::move(g), name = std::move(name)](Result<void> result) {
    if (!result) {
      const std::string& why = result.error().message;
      g->errors.push_back(g->several ? name + ": " + why : why);
    }
    if (--g->left == 0) g->finish();
  };
}

void Gathered::finish() {
  if (!errors.empty()) {
    std::string message;
    for (const auto& e : errors) message += (message.empty() ? "" : "\n") + e;
    return respond(error_reply(message));
  }
  boost::json::object reply;
  if (several)
    reply["apps"] = names;
  else
    reply["app"] = names.at(0);
  respond(ok_reply(std::move(reply)));
}

}  // namespace muster::daemon
