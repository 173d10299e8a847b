#include "daemon/wiring/describe_command.h"

#include <unistd.h>

#include "config/executable.h"
#include "daemon/observe/describe_json.h"
#include "daemon/wiring/named_apps.h"
#include "daemon/wiring/supervisor.h"

namespace muster::daemon {
namespace {

// Whether the file's settings for an app are those in force, but for a
// runtime scale: then the file's origins are the ones to show. They differ
// when the app kept its previous settings (a rolling reload of new ones
// failed), or after a reload-config that left the app untouched, whose
// in-force settings still carry the origins of the file as it was then.
bool file_settings_in_force(const config::AppConfig& file, const config::AppConfig& in_force) {
  config::AppConfig scaled = file;
  scaled.instances = in_force.instances;
  return scaled == in_force;
}

}  // namespace

void describe_app(Supervisor& s, const ipc::Request& r, ControlServer::Respond respond) {
  const DaemonSnapshot snapshot = s.snapshot();
  const AppSnapshot* snap = snapshot.find_app(*r.app);
  App* app = s.find_app(*r.app);
  if (auto why = one_app_only(s, "describe", *r.app)) return respond(ipc::error_reply(*why));
  if (snap == nullptr || app == nullptr) return respond(ipc::error_reply(no_such_app(s, *r.app)));
  const config::AppConfig& settings = app->config();
  const config::AppConfig* file = s.config().find_app(settings.name);
  const config::KeyOrigins& origins =
      file && file_settings_in_force(*file, settings) ? file->origins : settings.origins;
  const std::string path = config::worker_path(settings);
  DescribeInput in{.app = *snap,
                   .settings = settings,
                   .origins = origins,
                   .config_file = s.config().path,
                   .executable = config::resolve_executable(settings.exec, settings.cwd, path),
                   .path = path,
                   .inherited = config::inherited_environment(settings, ::environ),
                   .sockets = snapshot.sockets,
                   .show_env = r.show_env};
  respond(ipc::ok_reply(describe_reply_fields(in)));
}

}  // namespace muster::daemon
