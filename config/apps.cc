// The [apps.NAME] tables: one AppConfig each, with cross-key checks.
#include "config/apps.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "config/executable.h"

namespace muster::config::detail {
namespace fs = std::filesystem;
namespace {

// Environment names go to execve() as "NAME=value": a '=' would split them,
// a NUL would end the whole entry there.
void check_env_names(Section& s) {
  const toml::node* env = s.find("env");
  if (env == nullptr || !env->is_table()) return;
  for (const auto& [name, value] : *env->as_table()) {
    std::string_view text = name.str();
    if (text.empty() || text.find('=') != std::string_view::npos ||
        text.find('\0') != std::string_view::npos) {
      s.errors().add(
          name.source(), s.path_of("env"),
          "expected environment variable names without '=' or NUL bytes, got " + quote(text));
    }
  }
}

// Names as a shell writes them: [A-Za-z_][A-Za-z0-9_]*.
bool portable_env_name(std::string_view name) {
  auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (name.empty() || !letter(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return letter(c) || (c >= '0' && c <= '9'); });
}

void read_env_inherit(Section& s, AppConfig& app) {
  if (!s.read_string_list("env_inherit", app.env_inherit) || app.env_inherit.empty()) return;
  const toml::array& items = *s.find("env_inherit")->as_array();
  for (std::size_t i = 0; i < app.env_inherit.size(); ++i) {
    const std::string& name = app.env_inherit[i];
    std::string key = "env_inherit[" + std::to_string(i) + "]";
    if (name == "*") {
      if (app.env_inherit.size() > 1)
        s.error(*items.get(i), key, R"("*" (every variable) must be the only name)");
    } else if (!portable_env_name(name)) {
      s.bad_value(*items.get(i), key,
                  "an environment variable name (letters, digits and '_', not starting "
                  "with a digit) or \"*\"",
                  quote(name));
    } else if (set_by_muster(name)) {
      s.error(*items.get(i), key,
              name + " is set by musterd where a worker needs it and is never inherited");
    }
  }
}

void check_output_file(Section& s, AppConfig& app, const std::string& file, const fs::path& dir) {
  const toml::node* file_node = s.find("output_file");
  if (app.output == Output::file) {
    if (!file.empty()) {
      app.output_file = resolve_path(dir, file);
      return;
    }
    // output = "file" was written, so its node exists when output_file's does not.
    const toml::node* output_node = s.find("output");
    const toml::node& at = file_node ? *file_node : output_node ? *output_node : s.table();
    s.error(at, "output_file", R"(expected a file path, required when output = "file")");
  } else if (!file.empty()) {
    s.error(*file_node, "output_file",
            std::string(R"(only used with output = "file", but output is ")") +
                to_string(app.output) + "\"");
  }
}

// restart_delay doubles up to restart_delay_max, so the cap must not be
// below the start. The error goes on whichever of the two was written last.
void check_restart_delays(Section& s, const AppConfig& app) {
  if (app.restart_delay_max >= app.restart_delay) return;
  if (const toml::node* max = s.find("restart_delay_max")) {
    s.bad_value(*max, "restart_delay_max",
                "at least restart_delay (" + format_duration(app.restart_delay) + ")",
                quote(max->as_string()->get()));
  } else {
    const toml::node& delay = *s.find("restart_delay");
    s.bad_value(delay, "restart_delay",
                "at most restart_delay_max (" + format_duration(app.restart_delay_max) + ")",
                quote(delay.as_string()->get()));
  }
}

// Each listed socket must be declared and listed once; protocol none has no
// way to hand sockets over.
void check_sockets(Section& s, const AppConfig& app, const AppContext& context, bool protocol_ok) {
  const toml::node* node = s.find("sockets");
  if (node == nullptr) return;
  const toml::array& array = *node->as_array();
  for (std::size_t i = 0; i < app.sockets.size(); ++i) {
    const std::string& name = app.sockets[i];
    std::string key = "sockets[" + std::to_string(i) + "]";
    bool declared = std::any_of(context.sockets.begin(), context.sockets.end(),
                                [&](const SocketConfig& socket) { return socket.name == name; });
    auto earlier = app.sockets.begin() + static_cast<std::ptrdiff_t>(i);
    if (std::find(app.sockets.begin(), earlier, name) != earlier) {
      s.error(*array.get(i), key, "expected each socket once, got '" + name + "' again");
    } else if (!declared) {
      s.error(*array.get(i), key,
              "no socket named '" + name + "' is declared (declare [sockets." + name + "])");
    }
  }
  if (protocol_ok && app.protocol == Protocol::none && !app.sockets.empty()) {
    s.error(*node, "sockets",
            R"(protocol none takes no sockets (set protocol = "node" or "systemd"))");
  }
}

// Reuseport gives each instance slot its own SO_REUSEPORT socket: the
// protocol must hand sockets over, and the kernel balances TCP only.
void check_reuseport(Section& s, const AppConfig& app, const AppContext& context,
                     const toml::node& at, bool protocol_ok, bool sockets_ok) {
  if (protocol_ok && app.protocol == Protocol::none) {
    s.error(at, "scheduling",
            R"(scheduling "reuseport" needs protocol "node" or "systemd", but protocol is "none")");
    return;
  }
  if (!sockets_ok) return;
  if (app.sockets.empty()) {
    s.error(at, "scheduling", R"(scheduling "reuseport" needs at least one TCP socket in sockets)");
    return;
  }
  const toml::array& array = *s.find("sockets")->as_array();
  for (std::size_t i = 0; i < app.sockets.size(); ++i) {
    const std::string& name = app.sockets[i];
    auto earlier = app.sockets.begin() + static_cast<std::ptrdiff_t>(i);
    if (std::find(app.sockets.begin(), earlier, name) != earlier) continue;
    auto socket = std::find_if(context.sockets.begin(), context.sockets.end(),
                               [&](const SocketConfig& declared) { return declared.name == name; });
    // Undeclared sockets and bad addresses have their own errors.
    if (socket == context.sockets.end() || socket->listen.empty() ||
        socket->family != SocketConfig::Family::unix_path) {
      continue;
    }
    s.error(*array.get(i), "sockets[" + std::to_string(i) + "]",
            R"(scheduling "reuseport" takes TCP sockets only, but sockets.)" + name + " is " +
                quote(socket->listen));
  }
}

// Systemd workers accept on their sockets themselves (none) or get their
// slot's socket (reuseport); rr needs the node channel to pass connections,
// so the environment's default scheduling is for the other protocols.
void read_scheduling(Section& s, AppConfig& app, const AppContext& context, bool protocol_ok,
                     bool sockets_ok) {
  app.scheduling = app.protocol == Protocol::systemd ? Scheduling::none : context.scheduling;
  const toml::node* node = s.find("scheduling");
  if (!s.read_choice("scheduling", app.scheduling,
                     {Scheduling::rr, Scheduling::none, Scheduling::reuseport}) ||
      node == nullptr) {
    return;
  }
  if (protocol_ok && app.protocol == Protocol::systemd && app.scheduling == Scheduling::rr) {
    s.error(*node, "scheduling", R"(protocol "systemd" supports scheduling "none" or "reuseport")");
  } else if (app.scheduling == Scheduling::reuseport) {
    check_reuseport(s, app, context, *node, protocol_ok, sockets_ok);
  }
}

Ready default_ready(Protocol protocol) {
  switch (protocol) {
    case Protocol::none: return Ready::spawn;
    case Protocol::node: return Ready::automatic;
    case Protocol::systemd: return Ready::notify;
  }
  return Ready::spawn;
}

// When a worker counts as ready depends on what it can tell: node workers
// report online and listening over their channel, systemd ones send READY=1.
void read_readiness(Section& s, AppConfig& app, bool protocol_ok) {
  app.ready = default_ready(app.protocol);
  const toml::node* ready = s.find("ready");
  if (s.read_choice(
          "ready", app.ready,
          {Ready::spawn, Ready::online, Ready::listening, Ready::notify, Ready::automatic}) &&
      ready != nullptr && protocol_ok && app.ready != Ready::spawn) {
    Protocol needed = app.ready == Ready::notify ? Protocol::systemd : Protocol::node;
    if (app.protocol != needed) {
      s.error(*ready, "ready",
              "ready " + quote(to_string(app.ready)) + " needs protocol " +
                  quote(to_string(needed)) + ", but protocol is " + quote(to_string(app.protocol)));
    }
  }

  const toml::node* timeout = s.find("ready_timeout");
  if (s.read_duration("ready_timeout", app.ready_timeout) && timeout != nullptr &&
      app.ready_timeout == Duration::zero()) {
    s.bad_value(*timeout, "ready_timeout", R"(a duration above zero like "30s")",
                quote(timeout->as_string()->get()));
  }

  // Only the notify socket carries WATCHDOG=1.
  const toml::node* watchdog = s.find("watchdog");
  if (s.read_duration("watchdog", app.watchdog) && watchdog != nullptr && protocol_ok &&
      app.watchdog != Duration::zero() && app.protocol != Protocol::systemd) {
    s.error(*watchdog, "watchdog",
            std::string(R"(only used with protocol "systemd", but protocol is ")") +
                to_string(app.protocol) + "\"");
  }
}

// Sockets bound on demand answer a Node worker's listen(); other protocols
// never ask for one.
void read_on_demand(Section& s, AppConfig& app, bool protocol_ok) {
  s.read_bool("on_demand", app.on_demand);
  std::int64_t max = app.max_on_demand_sockets;
  if (s.read_integer("max_on_demand_sockets", 1, kMaxOnDemandSockets,
                     "a number of sockets from 1 to " + std::to_string(kMaxOnDemandSockets) +
                         " (on_demand = false refuses every one)",
                     max)) {
    app.max_on_demand_sockets = static_cast<unsigned>(max);
  }
  s.read_duration("on_demand_grace", app.on_demand_grace);
  if (!protocol_ok || app.protocol == Protocol::node) return;
  for (const char* key : {"on_demand", "max_on_demand_sockets", "on_demand_grace"}) {
    if (const toml::node* node = s.find(key)) {
      s.error(*node, key,
              std::string(R"(only used with protocol "node", but protocol is ")") +
                  to_string(app.protocol) + "\"");
    }
  }
}

// exec, args, cwd and the environment: what the worker is started as.
void read_command(Section& s, AppConfig& app, const fs::path& dir) {
  if (s.find("exec") == nullptr) {
    s.errors().add(s.table().source(), s.path_of("exec"),
                   R"(required key is missing: the program to run, like exec = "/usr/bin/node")");
  }
  s.read_nonempty_string("exec", app.exec);
  s.read_string_list("args", app.args);

  std::string cwd = ".";
  s.read_nonempty_string("cwd", cwd);
  app.cwd = resolve_path(dir, cwd);

  s.read_string_map("env", app.env);
  check_env_names(s);
  read_env_inherit(s, app);
}

void read_output(Section& s, AppConfig& app, const fs::path& dir) {
  bool output_ok =
      s.read_choice("output", app.output,
                    {Output::log, Output::file, Output::journal, Output::inherit, Output::null});
  s.read_converted("output_max_size", app.output_max_size, R"(a size like "10MiB")",
                   [](const std::string& text) -> std::optional<std::uint64_t> {
                     auto size = parse_size(text);
                     if (size && *size == 0) return std::nullopt;
                     return size;
                   });
  std::int64_t keep = app.output_keep;
  if (s.read_integer("output_keep", 0, kMaxOutputKeep,
                     "a number of rotated files from 0 to " + std::to_string(kMaxOutputKeep),
                     keep)) {
    app.output_keep = static_cast<unsigned>(keep);
  }
  std::string output_file;
  if (s.read_string("output_file", output_file) && output_ok) {
    check_output_file(s, app, output_file, dir);
  }
}

// When a worker is restarted and stopped.
void read_restart_and_stop(Section& s, AppConfig& app) {
  s.read_choice("restart", app.restart,
                {RestartMode::always, RestartMode::on_failure, RestartMode::never});
  bool delays_ok = s.read_duration("restart_delay", app.restart_delay);
  delays_ok = s.read_duration("restart_delay_max", app.restart_delay_max) && delays_ok;
  if (delays_ok) check_restart_delays(s, app);
  s.read_duration("min_uptime", app.min_uptime);
  s.read_count("max_restarts", app.max_restarts);
  s.read_duration("restart_window", app.restart_window);
  s.read_duration("failed_retry", app.failed_retry);
  s.read_signal("stop_signal", app.stop_signal);
  s.read_duration("stop_timeout", app.stop_timeout);
  s.read_duration("drain_timeout", app.drain_timeout);
}

AppConfig read_app(Section& s, const std::string& name, const AppContext& context) {
  const fs::path& dir = context.dir;
  AppConfig app;
  app.name = name;
  read_command(s, app, dir);

  std::int64_t instances = app.instances;
  if (s.read_integer("instances", 0, kMaxInstances,
                     "a number of workers from 0 (one per CPU) to " + std::to_string(kMaxInstances),
                     instances)) {
    app.instances = instances == 0 ? std::min(available_parallelism(), kMaxInstances)
                                   : static_cast<unsigned>(instances);
  }
  bool protocol_ok =
      s.read_choice("protocol", app.protocol, {Protocol::none, Protocol::node, Protocol::systemd});
  bool sockets_ok = s.read_string_list("sockets", app.sockets);
  if (sockets_ok) check_sockets(s, app, context, protocol_ok);
  read_scheduling(s, app, context, protocol_ok, sockets_ok);
  read_on_demand(s, app, protocol_ok);
  read_cluster_options(s, app, protocol_ok);
  read_inspect(s, app, protocol_ok);
  s.read_count("max_pending", app.max_pending);
  s.read_duration("pending_timeout", app.pending_timeout);
  read_readiness(s, app, protocol_ok);
  s.read_converted("max_memory", app.max_memory, R"(a size like "512MiB" (or "" for no limit))",
                   [](const std::string& text) -> std::optional<std::uint64_t> {
                     if (text.empty()) return std::uint64_t{0};
                     return parse_size(text);
                   });
  if (const toml::node* surge = s.find("reload_surge")) {
    if (s.read_count("reload_surge", app.reload_surge) && app.reload_surge == 0)
      s.bad_value(*surge, "reload_surge", "a number of workers of at least 1", "0");
  }
  s.read_string("user", app.user);
  s.read_string("group", app.group);
  read_output(s, app, dir);
  read_restart_and_stop(s, app);
  s.read_bool("autostart", app.autostart);
  s.read_string_list("after", app.after);  // checked against the other apps: check_after
  read_watch(s, app);

  s.report_unknown_keys();
  record_origins(s.table(), app.origins);
  return app;
}

}  // namespace

void read_apps(const toml::node& apps, const AppContext& context, ErrorList& errors,
               std::vector<AppConfig>& out) {
  const toml::table* table = apps.as_table();
  if (table == nullptr) {
    errors.add(apps.source(), "apps",
               std::string("expected a table of apps like [apps.web], got ") + type_name(apps));
    return;
  }
  for (const auto& [key, node] : in_file_order(*table)) {
    std::string name(key->str());
    std::string path = "apps." + name;
    const toml::table* app_table = node->as_table();
    if (app_table == nullptr) {
      errors.add(node->source(), path, std::string("expected a table, got ") + type_name(*node));
      continue;
    }
    if (!valid_name(name)) {
      errors.add(key->source(), path,
                 "expected an app name of letters, digits, '_', '.' and '-', got " + quote(name));
    } else if (name == kAllApps) {
      errors.add(key->source(), path,
                 std::string("the app name \"") + kAllApps +
                     "\" is reserved: musterctl takes it for every app");
    }
    Section section(*app_table, path, errors);
    out.push_back(read_app(section, name, context));
  }
}

Scheduling default_scheduling(ErrorList& errors) {
  // Node's primary reads NODE_CLUSTER_SCHED_POLICY (lib/internal/cluster/primary.js)
  // and silently ignores other values; a typo there would quietly change how
  // connections are spread, so we report it.
  for (const char* variable : {"MUSTER_SCHED_POLICY", "NODE_CLUSTER_SCHED_POLICY"}) {
    const char* value = std::getenv(variable);
    if (value == nullptr || *value == '\0') continue;
    std::string_view text = value;
    if (text == "rr") return Scheduling::rr;
    if (text == "none") return Scheduling::none;
    errors.add_unplaced(
        variable,
        R"(expected "rr" or "none" (the default scheduling of apps), got )" + quote(text));
    break;
  }
  return Scheduling::rr;
}

}  // namespace muster::config::detail
