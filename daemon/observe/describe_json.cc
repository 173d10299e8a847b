#include "daemon/observe/describe_json.h"

#include <algorithm>
#include <cctype>

#include "daemon/observe/app_settings.h"
#include "daemon/observe/status_json.h"

namespace muster::daemon {
namespace {

namespace json = boost::json;

json::object origin_json(const config::KeyOrigin* origin, const std::string& file) {
  if (origin == nullptr) return {{"kind", "default"}};
  json::object out{{"kind", origin->environment.empty() ? "file" : "environment"},
                   {"file", file},
                   {"line", origin->line},
                   {"column", origin->column}};
  if (!origin->environment.empty()) out["environment"] = origin->environment;
  return out;
}

json::array settings_json(const DescribeInput& in) {
  json::array out;
  for (auto& [key, value] : app_settings(in.settings)) {
    json::object origin = origin_json(in.origins.find(key), in.config_file);
    // A runtime `musterctl scale` changed the count the file gives.
    if (key == "instances" && in.app.config_instances &&
        *in.app.config_instances != in.settings.instances)
      origin = json::object{{"kind", "scale"}, {"config", *in.app.config_instances}};
    out.push_back(
        json::object{{"key", key}, {"value", std::move(value)}, {"origin", std::move(origin)}});
  }
  return out;
}

json::object exec_json(const DescribeInput& in) {
  json::object out{{"exec", in.settings.exec}, {"path", in.path}};
  if (in.executable)
    out["resolved"] = *in.executable;
  else
    out["error"] = in.executable.error().message;
  json::array args;
  for (const auto& a : in.settings.args) args.emplace_back(a);
  out["args"] = std::move(args);
  out["cwd"] = in.settings.cwd;
  return out;
}

json::object variable(const std::string& name, const std::string& value, json::object origin,
                      bool show) {
  const bool masked = !show && looks_secret(name);
  return {{"name", name},
          {"value", masked ? json::value(kMasked) : json::value(value)},
          {"masked", masked},
          {"origin", std::move(origin)}};
}

// PATH first (the app's, else musterd's), then the app's env, then what
// env_inherit brings from musterd's environment. MUSTER_* and the login
// variables are each worker's own and not shown.
json::array environment_json(const DescribeInput& in) {
  json::array out;
  const auto& env = in.settings.env;
  if (!env.contains("PATH"))
    out.push_back(variable("PATH", in.path, {{"kind", "musterd"}}, in.show_env));
  for (const auto& [name, value] : env)
    out.push_back(variable(name, value, origin_json(in.origins.find("env." + name), in.config_file),
                           in.show_env));
  for (const auto& entry : in.inherited) {
    auto eq = entry.find('=');
    out.push_back(
        variable(entry.substr(0, eq), entry.substr(eq + 1), {{"kind", "inherited"}}, in.show_env));
  }
  return out;
}

// Its declared sockets (reuseport: one per slot, "web#0"), and those bound
// on demand for its workers.
json::array sockets_json(const DescribeInput& in) {
  json::array out;
  for (const auto& s : in.sockets) {
    const auto& names = in.settings.sockets;
    bool ours = s.app == in.app.name ||
                std::any_of(names.begin(), names.end(), [&](const std::string& name) {
                  return s.name == name || s.name.starts_with(name + "#");
                });
    if (ours) out.push_back(socket_status_json(s));
  }
  return out;
}

json::value optional_ms(const std::optional<Duration>& d) {
  if (!d) return nullptr;
  return d->count();
}

json::object slot_policy(const AppSnapshot& app, const SlotSnapshot& slot) {
  json::object out{{"instance", slot.instance},
                   {"restarts", slot.restarts},
                   {"consecutive", slot.consecutive},
                   {"crash_loop", slot.crash_loop}};
  for (const auto& w : app.workers) {
    if (w.instance != slot.instance) continue;
    out["worker"] = {{"id", w.id}, {"pid", w.pid}, {"state", to_string(w.state)}};
    break;
  }
  for (const auto& empty : app.empty_slots)
    if (empty.instance == slot.instance) out["next_try_ms"] = optional_ms(empty.next_try_in);
  return out;
}

json::object policy_json(const AppSnapshot& app) {
  json::object out{{"state", to_string(app.state)}, {"wanted_up", app.wanted_up}};
  if (app.state == AppState::failed) out["retry_in_ms"] = optional_ms(app.retry_in);
  json::array slots;
  for (const auto& slot : app.slots) slots.push_back(slot_policy(app, slot));
  out["slots"] = std::move(slots);
  return out;
}

json::object counters_json(const AppSnapshot& app) {
  const App::Counters& c = app.counters;
  json::object out{{"exits", c.exits},
                   {"crashes", c.crashes},
                   {"restarts", c.restarts},
                   {"reloads_done", c.reloads_done},
                   {"reloads_failed", c.reloads_failed},
                   {"memory_replacements", c.memory_replacements},
                   {"failures", c.failures},
                   {"exited_connections", c.exited_connections},
                   {"pending", app.pending},
                   {"output_errors", app.output_errors}};
  if (app.relay) {
    out["relayed"] = app.relay->relayed;
    out["relay_dropped"] = app.relay->dropped;
  }
  if (app.on_demand) out["on_demand_sockets"] = app.on_demand->sockets;
  return out;
}

json::object exit_json(const ExitRecord& e) {
  return {{"time", e.time},
          {"id", e.id},
          {"pid", e.pid},
          {"code", e.code ? json::value(*e.code) : json::value(nullptr)},
          {"signal", e.signal ? json::value(config::signal_name(*e.signal)) : json::value(nullptr)},
          {"voluntary", e.voluntary},
          {"uptime_ms", e.uptime.count()},
          {"description", e.description}};
}

json::array exits_json(const AppSnapshot& app) {
  json::array out;
  for (const auto& slot : app.slots) {
    json::array exits;
    for (const auto& e : slot.exits) exits.push_back(exit_json(e));
    out.push_back(json::object{{"instance", slot.instance}, {"exits", std::move(exits)}});
  }
  return out;
}

json::object logs_json(const config::AppConfig& a) {
  json::object out{{"output", config::to_string(a.output)}};
  switch (a.output) {
    case config::Output::file:
      out["file"] = a.output_file;
      out["rotated"] = a.output_file + ".N";
      out["keep"] = a.output_keep;
      break;
    case config::Output::log: out["where"] = "musterd's log, as APP[ID] LINE"; break;
    case config::Output::journal: out["where"] = "the systemd journal, MUSTER_APP=" + a.name; break;
    case config::Output::inherit: out["where"] = "musterd's own stdout and stderr"; break;
    case config::Output::null: out["where"] = "discarded"; break;
  }
  return out;
}

}  // namespace

bool looks_secret(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (std::string_view word :
       {"SECRET", "PASSWORD", "PASSWD", "TOKEN", "KEY", "CREDENTIAL", "PRIVATE", "AUTH"})
    if (upper.find(word) != std::string::npos) return true;
  return upper.ends_with("_PASS") || upper == "PASS";
}

json::object describe_reply_fields(const DescribeInput& in) {
  return {{"app", in.app.name},
          {"config_file", in.config_file},
          {"settings", settings_json(in)},
          {"exec", exec_json(in)},
          {"environment", environment_json(in)},
          {"sockets", sockets_json(in)},
          {"policy", policy_json(in.app)},
          {"counters", counters_json(in.app)},
          {"last_exits", exits_json(in.app)},
          {"logs", logs_json(in.settings)}};
}

}  // namespace muster::daemon
