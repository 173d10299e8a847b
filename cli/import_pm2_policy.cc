// One PM2 app's restart, stop, readiness, memory, watch and output settings
// as muster keys (PM2 7: lib/God.js handleExit, lib/God/Methods.js
// killProcess, lib/Common.js prepareAppConf for log paths), and every key
// without an equivalent as a comment saying why (pm2_tables.h).
#include <set>

#include "cli/import_pm2_parts.h"
#include "cli/pm2_tables.h"

namespace muster::cli::pm2 {
namespace {

// Keys whose value this file or import_pm2_app.cc turns into muster keys.
const std::set<std::string, std::less<>> kConverted = {"name",
                                                       "script",
                                                       "args",
                                                       "exec_interpreter",
                                                       "node_args",
                                                       "cwd",
                                                       "instances",
                                                       "exec_mode",
                                                       "env",
                                                       "port",
                                                       "max_memory_restart",
                                                       "kill_timeout",
                                                       "listen_timeout",
                                                       "autostart",
                                                       "autorestart",
                                                       "max_restarts",
                                                       "min_uptime",
                                                       "restart_delay",
                                                       "exp_backoff_restart_delay",
                                                       "out_file",
                                                       "error_file",
                                                       "log_file",
                                                       "disable_logs",
                                                       "watch",
                                                       "ignore_watch",
                                                       "uid",
                                                       "gid"};

bool truthy(const json::value& v) {
  if (v.is_bool()) return v.get_bool();
  if (v.is_null()) return false;
  if (v.is_string()) return !v.get_string().empty();
  if (v.is_array()) return !v.get_array().empty();
  return true;
}

void add_restart(const json::object& conf, App& app) {
  // God.handleExit: autorestart === false || autorestart === "false".
  const json::value* restart = conf.if_contains("autorestart");
  const bool never = restart && (*restart == false || *restart == "false");
  const json::value* codes = conf.if_contains("stop_exit_codes");
  const bool zero_only = codes && ((codes->is_number() && codes->to_number<double>() == 0) ||
                                   (codes->is_array() && codes->get_array().size() == 1 &&
                                    number_of(codes->get_array()[0]) == 0u));
  if (never)
    app.lines.push_back({"restart", toml_string("never"), "PM2's autorestart: false"});
  else if (zero_only)
    app.lines.push_back({"restart", toml_string("on-failure"), "PM2's stop_exit_codes: [0]"});
  if (codes && !zero_only)
    app.dropped.push_back("pm2 stop_exit_codes = " + display(*codes) + ": " +
                          std::string(find_key("stop_exit_codes")->note));
  if (conf.contains("autostart") && !truthy(conf.at("autostart")))
    app.lines.push_back({"autostart", "false", ""});
}

void add_backoff(const json::object& conf, App& app) {
  if (const json::value* v = conf.if_contains("exp_backoff_restart_delay")) {
    if (auto first = duration_ms(*v)) {
      const auto ms = *number_of(*v);
      app.lines.push_back(
          {"restart_delay", toml_string(*first), "PM2's exp_backoff_restart_delay"});
      app.lines.push_back({"restart_delay_max", toml_string(ms > 15000 ? *first : "15s"),
                           "PM2's cap; muster doubles the delay, PM2 multiplies it by 1.5"});
      return;
    }
  }
  if (const json::value* v = conf.if_contains("restart_delay"))
    if (auto fixed = duration_ms(*v)) {
      app.lines.push_back({"restart_delay", toml_string(*fixed), "PM2's fixed delay"});
      app.lines.push_back({"restart_delay_max", toml_string(*fixed), ""});
    }
}

void add_limits(const json::object& conf, bool node_app, App& app,
                std::vector<std::string>& warnings) {
  auto bad = [&](const char* key) {
    warnings.push_back("app " + app.name + ": " + key + " " + display(conf.at(key)) +
                       " is not a value PM2 takes; left out");
  };
  if (conf.contains("max_restarts")) {
    if (auto n = number_of(conf.at("max_restarts")))
      app.lines.push_back({"max_restarts", std::to_string(*n),
                           "within restart_window; PM2 counts restarts before min_uptime"});
    else
      bad("max_restarts");
  }
  if (conf.contains("min_uptime")) {
    if (auto d = pm2_uptime(conf.at("min_uptime")))
      app.lines.push_back({"min_uptime", toml_string(*d), ""});
    else
      bad("min_uptime");
  }
  if (conf.contains("max_memory_restart")) {
    if (auto s = pm2_size(conf.at("max_memory_restart")))
      app.lines.push_back({"max_memory", toml_string(*s), "PM2's max_memory_restart"});
    else
      bad("max_memory_restart");
  }
  // lib/constants.js: PM2 stops a process with SIGINT (PM2_KILL_SIGNAL).
  app.lines.push_back({"stop_signal", toml_string("SIGINT"), "PM2 stops apps with SIGINT"});
  if (conf.contains("kill_timeout")) {
    if (auto d = duration_ms(conf.at("kill_timeout")))
      app.lines.push_back({"stop_timeout", toml_string(*d), "PM2's kill_timeout"});
    else
      bad("kill_timeout");
  } else {
    app.lines.push_back({"stop_timeout", toml_string("1600ms"), "PM2's default kill_timeout"});
  }
  if (conf.contains("listen_timeout") && node_app) {
    if (auto d = duration_ms(conf.at("listen_timeout")))
      app.lines.push_back({"ready_timeout", toml_string(*d),
                           "PM2's listen_timeout; a worker not ready by then is replaced"});
    else
      bad("listen_timeout");
  } else if (conf.contains("listen_timeout")) {
    app.dropped.push_back("pm2 listen_timeout = " + display(conf.at("listen_timeout")) +
                          ": a plain process is ready when it starts");
  }
}

void add_watch(const json::object& conf, App& app) {
  const json::value* w = conf.if_contains("watch");
  if (!w || !truthy(*w)) return;
  std::vector<std::string> paths = w->is_bool() ? std::vector<std::string>{"."} : string_list(*w);
  app.lines.push_back({"watch", toml_strings(paths), w->is_bool() ? "PM2's watch: true" : ""});
  if (const json::value* i = conf.if_contains("ignore_watch"))
    app.lines.push_back({"watch_ignore", toml_strings(string_list(*i)),
                         "globs; PM2 also takes regular expressions"});
}

void add_identity(const json::object& conf, App& app) {
  if (conf.contains("uid"))
    app.lines.push_back({"user", toml_string(env_text(conf.at("uid"))), ""});
  if (conf.contains("gid"))
    app.lines.push_back({"group", toml_string(env_text(conf.at("gid"))), ""});
}

void add_dropped(const json::object& conf, App& app, std::vector<std::string>& warnings) {
  for (const auto& [key, value] : conf) {
    if (kConverted.count(key) || key == "stop_exit_codes" || key.starts_with("env_")) continue;
    const KeyMapping* row = find_key(key);
    const std::string note = row ? std::string(row->note) : "not a key of PM2 7; left out";
    app.dropped.push_back("pm2 " + std::string(key) + " = " + display(value) + ": " + note);
    if (truthy(value) && key != "merge_logs")
      warnings.push_back("app " + app.name + ": " + std::string(key) +
                         " has no muster "
                         "equivalent (" +
                         note + ")");
  }
}

}  // namespace

void add_policies(const json::object& conf, bool node_app, App& app,
                  std::vector<std::string>& warnings) {
  add_restart(conf, app);
  add_backoff(conf, app);
  add_limits(conf, node_app, app, warnings);
  add_watch(conf, app);
  add_identity(conf, app);
  add_dropped(conf, app, warnings);
}

}  // namespace muster::cli::pm2
