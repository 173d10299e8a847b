// The apps of what the importer reads: an ecosystem file's module.exports
// ({apps: [...]}, a bare array, one app), or PM2's saved process list
// (dump.pm2: one pm2_env per running process, written by God.dumpProcessList
// in lib/God/ActionMethods.js), turned into ecosystem-style app objects with
// PM2's key aliases resolved (Config.validateJSON).
#include <algorithm>
#include <array>
#include <set>

#include "cli/import_pm2_parts.h"
#include "cli/pm2_tables.h"

namespace muster::cli::pm2 {
namespace {

// The canonical key wins over its aliases, as `conf[sk] || (conf[sk] = json[alias])`.
json::object canonical(const json::object& app) {
  json::object out;
  for (const auto& [key, value] : app)
    if (canonical_key(key) == key) out[key] = value;
  for (const auto& [key, value] : app) {
    const std::string name = canonical_key(key);
    if (name != key && !out.contains(name)) out[name] = value;
  }
  return out;
}

// What PM2 keeps of a process at run time, or fills in itself: not config.
constexpr std::array<std::string_view, 31> kRuntimeKeys = {
    "status",         "pm_uptime",   "created_at",        "restart_time",    "unstable_restarts",
    "axm_actions",    "axm_monitor", "axm_options",       "axm_dynamic",     "km_link",
    "vizion_running", "version",     "node_version",      "_pm2_version",    "pm_pid_path",
    "pm_id",          "unique_id",   "NODE_APP_INSTANCE", "exit_code",       "prev_restart_delay",
    "pm_exec_path",   "pm_cwd",      "pm_out_log_path",   "pm_err_log_path", "pm_log_path",
    "username",       "env",         "instances",         "log_date_format", "pmx_module",
    "_tree_pids"};

// Keys PM2's schema fills with a default (Config.validateJSON): written by
// every dump, they say nothing when equal to that default.
bool is_default(std::string_view key, const json::value& v) {
  static const std::array<std::pair<std::string_view, json::value>, 11> defaults = {{
      {"vizion", true},
      {"autostart", true},
      {"autorestart", true},
      {"pmx", true},
      {"automation", true},
      {"treekill", true},
      {"windowsHide", true},
      {"kill_retry_time", 100},
      {"merge_logs", true},
      {"namespace", "default"},
      {"instance_var", "NODE_APP_INSTANCE"},
  }};
  for (const auto& [k, d] : defaults)
    if (k == key)
      return d == v ||
             (v.is_number() && d.is_number() && v.to_number<double>() == d.to_number<double>());
  return key == "node_args" && v.is_array() && v.get_array().empty();
}

// The shell's session and PM2's own variables: every process PM2 starts
// inherits the whole environment of the `pm2` command, and the dump keeps it.
bool shell_variable(const std::string& name, const std::set<std::string>& app_names) {
  static const std::set<std::string> exact = {"PATH",      "HOME",
                                              "USER",      "LOGNAME",
                                              "SHELL",     "PWD",
                                              "OLDPWD",    "SHLVL",
                                              "TERM",      "_",
                                              "MAIL",      "HOSTNAME",
                                              "DISPLAY",   "COLORTERM",
                                              "LS_COLORS", "LESSOPEN",
                                              "LESSCLOSE", "EDITOR",
                                              "VISUAL",    "PS1",
                                              "unique_id", "NODE_APP_INSTANCE",
                                              "pm_id",     "MOTD_SHOWN"};
  static const std::array<std::string_view, 8> prefixes = {"SSH_", "XDG_",  "TERM_", "DBUS_",
                                                           "PM2_", "SUDO_", "npm_",  "VSCODE_"};
  if (exact.count(name) || app_names.count(name)) return true;
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](std::string_view p) { return name.rfind(p, 0) == 0; });
}

// A log file in PM2's own directory (PM2_HOME/logs, PM2_HOME being
// ~/.pm2 unless set): PM2's default, which a dump names though the user did not.
bool pm2_default_log(const json::value& path, const json::object* env) {
  if (!path.is_string() || env == nullptr) return false;
  std::string home;
  if (const json::value* h = env->if_contains("PM2_HOME"))
    home = env_text(*h);
  else if (const json::value* user = env->if_contains("HOME"))
    home = env_text(*user) + "/.pm2";
  const std::string dir = home + "/logs/";
  return !home.empty() && path.get_string().starts_with(dir) &&
         path.get_string().find('/', dir.size()) == std::string::npos;
}

// One dump entry as an ecosystem app; `env_names` collects what was left out.
json::object from_pm2_env(const json::object& e, const std::set<std::string>& app_names,
                          std::set<std::string>& left_out) {
  json::object app;
  const json::object* env =
      e.contains("env") && e.at("env").is_object() ? &e.at("env").get_object() : nullptr;
  for (const auto& [key, value] : e) {
    const bool runtime = std::find(kRuntimeKeys.begin(), kRuntimeKeys.end(),
                                   std::string_view(key)) != kRuntimeKeys.end();
    // mergeEnvironmentVariables also copies every variable to the top level.
    if (runtime || (env && env->contains(key)) || is_default(key, value)) continue;
    app[key] = value;
  }
  const std::pair<const char*, const char*> paths[] = {{"pm_exec_path", "script"},
                                                       {"pm_cwd", "cwd"},
                                                       {"pm_out_log_path", "out_file"},
                                                       {"pm_err_log_path", "error_file"},
                                                       {"pm_log_path", "log_file"}};
  for (const auto& [from, to] : paths)
    if (e.contains(from) && !pm2_default_log(e.at(from), env)) app[to] = e.at(from);
  json::object kept;
  if (env)
    for (const auto& [key, value] : *env) {
      if (shell_variable(key, app_names))
        left_out.insert(key);
      else
        kept[key] = value;
    }
  app["env"] = std::move(kept);
  return app;
}

}  // namespace

bool is_dump(const json::value& value) {
  if (!value.is_array() || value.get_array().empty()) return false;
  const auto& first = value.get_array().front();
  return first.is_object() && first.get_object().contains("pm_exec_path");
}

std::vector<Source> ecosystem_apps(const json::value& value, std::string& error) {
  const json::value* list = &value;
  if (value.is_object() && value.get_object().contains("apps")) list = &value.at("apps");
  std::vector<Source> out;
  if (list->is_object()) {
    out.push_back({canonical(list->get_object()), std::nullopt, false});
  } else if (list->is_array()) {
    for (const auto& app : list->get_array()) {
      if (!app.is_object()) {
        error = "an entry of apps is not an object: " + display(app);
        return {};
      }
      out.push_back({canonical(app.get_object()), std::nullopt, false});
    }
  } else {
    error = "expected {apps: [...]}, an array of apps or one app, got " + display(*list);
    return {};
  }
  if (out.empty()) error = "no apps in it";
  return out;
}

std::vector<Source> dump_apps(const json::array& dump, std::vector<std::string>& notes) {
  std::set<std::string> names;
  for (const auto& e : dump)
    if (e.is_object() && e.get_object().contains("name")) names.insert(env_text(e.at("name")));
  std::vector<Source> out;
  std::set<std::string> left_out;
  for (const auto& e : dump) {
    if (!e.is_object()) continue;
    json::object app = from_pm2_env(e.get_object(), names, left_out);
    // One entry per running process: the instances of an app share its name.
    auto same = std::find_if(out.begin(), out.end(), [&](const Source& s) {
      return s.conf.contains("name") && app.contains("name") && s.conf.at("name") == app.at("name");
    });
    if (same != out.end()) {
      ++*same->instances_seen;
      continue;
    }
    out.push_back({canonical(app), 1, true});
  }
  if (!left_out.empty()) {
    std::string list;
    for (const auto& n : left_out) list += (list.empty() ? "" : ", ") + n;
    notes.push_back(
        "PM2's saved list holds each app's whole environment, the shell's that ran "
        "pm2 included. Left out of env, as the shell's or PM2's own: " +
        list + ".");
    notes.push_back("Review each env below: keep what the app needs.");
  }
  return out;
}

}  // namespace muster::cli::pm2
