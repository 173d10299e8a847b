// One PM2 app as a muster app: what runs (exec, args, interpreter, exec_mode,
// instances), where (cwd) and with what environment, as PM2 7 decides them in
// lib/Common.js (prepareAppConf, resolveInterpreter, determineExecMode,
// verifyConfs) and lib/God.js (prepare: instances). Policies and output are
// import_pm2_policy.cc's.
#include <cstdlib>
#include <set>

#include "cli/import_pm2_parts.h"
#include "cli/pm2_tables.h"

namespace muster::cli::pm2 {
namespace {

// lib/API/interpreter.json; "python" becomes python3, as PM2 does where
// `python` is missing (Debian and most distributions now).
std::string interpreter_for(const std::string& script) {
  static const std::pair<const char*, const char*> by_ext[] = {
      {".sh", "bash"},       {".py", "python3"}, {".rb", "ruby"},  {".php", "php"},
      {".pl", "perl"},       {".js", "node"},    {".cjs", "node"}, {".mjs", "node"},
      {".coffee", "coffee"}, {".ls", "lsc"},     {".ts", "bun"},   {".tsx", "bun"}};
  const auto dot = script.rfind('.');
  const auto slash = script.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  for (const auto& [ext, interpreter] : by_ext)
    if (script.substr(dot) == ext) return interpreter;
  return "";
}

bool is_node(const std::string& interpreter) {
  const std::string base = interpreter.substr(interpreter.rfind('/') + 1);
  return base.size() >= 4 && base.compare(base.size() - 4, 4, "node") == 0;
}

std::string join(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || dir.empty()) return path;
  return dir + "/" + path;
}

std::string text_of(const json::object& conf, const char* key) {
  return conf.contains(key) ? env_text(conf.at(key)) : "";
}

// renderApplicationName: the script's file name without its extension.
std::string name_of(const json::object& conf) {
  if (conf.contains("name")) return env_text(conf.at("name"));
  std::string script = text_of(conf, "script");
  script = script.substr(script.rfind('/') + 1);
  return script.substr(0, script.find('.'));
}

// instances as PM2's God.prepare counts them: max and 0 are the CPU count,
// -N the CPU count minus N; muster's 0 is the CPUs musterd may use.
void add_instances(const json::object& conf, const Source& source, App& app,
                   std::vector<std::string>& warnings) {
  if (source.instances_seen) {
    if (*source.instances_seen != 1)
      app.lines.push_back({"instances", std::to_string(*source.instances_seen),
                           "as many as PM2 ran; the saved list does not say whether it was max"});
    return;
  }
  if (!conf.contains("instances")) return;
  const json::value& v = conf.at("instances");
  std::int64_t n = 0;
  if (v.is_string() && v.get_string() != "max")
    n = std::atoll(v.get_string().c_str());
  else if (v.is_number())
    n = v.to_number<std::int64_t>();
  if (n == 1) return;
  std::string comment = n == 0 ? "PM2's " + display(v) + ": one per CPU" : "";
  if (n < 0) {
    comment = "PM2's " + display(v) + " (CPUs minus " + std::to_string(-n) +
              ") has no equivalent: 0 is one per CPU; set a number to leave CPUs free";
    warnings.push_back("app " + app.name + ": instances " + display(v) +
                       " became 0 (one per CPU): muster has no 'CPUs minus N'");
  }
  app.lines.push_back({"instances", std::to_string(n > 0 ? n : 0), comment});
}

// exec and args: the interpreter runs node_args, the script, args.
void add_command(const json::object& conf, const std::string& cwd, const Host& host, bool& node_app,
                 App& app, std::vector<std::string>& warnings) {
  const std::string script = text_of(conf, "script");
  std::vector<std::string> args;
  if (conf.contains("args")) {
    const auto& a = conf.at("args");
    args = a.is_string() ? split_args(std::string(a.get_string())) : string_list(a);
  }
  std::vector<std::string> node_args;
  if (conf.contains("node_args")) {
    const auto& a = conf.at("node_args");
    node_args = a.is_string() ? split_args(std::string(a.get_string())) : string_list(a);
  }
  std::string interpreter = text_of(conf, "exec_interpreter");
  std::string exec = script;
  if (script.find(' ') != std::string::npos && interpreter.empty()) {
    // verifyConfs: a command line as script runs under bash -c.
    app.lines.push_back(
        {"exec", toml_string("bash"), "PM2 runs a script with spaces with bash -c"});
    args.insert(args.begin(), {"-c", script});
    app.lines.push_back({"args", toml_strings(args), ""});
    return;
  }
  if (interpreter.empty()) interpreter = interpreter_for(script);
  if (interpreter.empty()) {
    // Neither named nor known by extension: PM2 runs a text file with node.
    const auto kind = host.file_kind(join(cwd, script));
    interpreter = kind == Host::Kind::text ? "node" : "none";
  }
  std::string mode = text_of(conf, "exec_mode");
  if (mode.empty()) {
    // determineExecMode: instances >= 1, 0 or -1 (max is 0 by then) on node.
    const json::value* n = conf.if_contains("instances");
    const bool counted = n && (*n == "max" || (n->is_number() && n->to_number<double>() >= -1) ||
                               (n->is_string() && std::atoi(n->get_string().c_str()) >= -1));
    mode = counted && is_node(interpreter) ? "cluster" : "fork";
  }
  node_app = mode.rfind("cluster", 0) == 0 && is_node(interpreter);
  if (mode.rfind("cluster", 0) == 0 && !node_app)
    warnings.push_back("app " + app.name + ": cluster mode needs node; it runs as plain processes");
  if (interpreter != "none") {
    exec = interpreter;
    node_args.push_back(script);
    args.insert(args.begin(), node_args.begin(), node_args.end());
  } else if (script.find('/') == std::string::npos &&
             host.file_kind(join(cwd, script)) != Host::Kind::missing) {
    exec = "./" + script;  // PM2 found it in cwd; muster would look along PATH
  }
  app.lines.push_back({"exec", toml_string(exec), ""});
  if (!args.empty()) app.lines.push_back({"args", toml_strings(args), ""});
  app.lines.push_back({"protocol", toml_string(node_app ? "node" : "none"),
                       node_app ? "PM2's cluster mode: musterd is the cluster primary" : ""});
}

void add_env(const json::object& conf, App& app) {
  if (conf.contains("env") && !conf.at("env").is_object())
    app.dropped.push_back("pm2 env = " + display(conf.at("env")) + ": not an object of variables");
  if (conf.contains("env") && conf.at("env").is_object())
    for (const auto& [k, v] : conf.at("env").get_object())
      app.env.emplace_back(std::string(k), env_text(v));
  if (conf.contains("port")) app.env.emplace_back("PORT", env_text(conf.at("port")));
  for (const auto& [k, v] : conf) {
    if (k.size() <= 4 || k.substr(0, 4) != "env_" || !v.is_object()) continue;
    Env overlay;
    for (const auto& [name, value] : v.get_object())
      overlay.emplace_back(std::string(name), env_text(value));
    app.environments.emplace_back(std::string(k.substr(4)), std::move(overlay));
  }
}

}  // namespace

App convert_app(const Source& source, const std::string& dir, const Host& host,
                std::vector<std::string>& warnings) {
  const json::object& conf = source.conf;
  App app;
  const std::string pm2_name = name_of(conf);
  app.name = app_name(pm2_name);
  if (app.name == "all") app.name = "all-app";
  if (app.name != pm2_name)
    app.notes.push_back("PM2's name " + toml_string(pm2_name) +
                        " (muster takes letters, "
                        "digits, _ . - and not \"all\")");
  std::string cwd = text_of(conf, "cwd");
  if (!cwd.empty()) app.lines.push_back({"cwd", toml_string(cwd), ""});
  bool node_app = false;
  add_command(conf, join(dir, cwd.empty() ? "." : cwd), host, node_app, app, warnings);
  add_instances(conf, source, app, warnings);
  add_env(conf, app);
  add_policies(conf, node_app, app, warnings);
  add_output(conf, cwd, host, app);
  return app;
}

}  // namespace muster::cli::pm2
