// The rows of pm2_tables.h. A note is written into the imported config as a
// comment and shown in docs/coming-from-pm2.md: say why, in one line.
#include "cli/pm2_tables.h"

#include <cctype>

namespace muster::cli::pm2 {

const std::array<KeyMapping, 65> kKeys = {{
    {"name", "[apps.NAME]", "the table's name; characters muster does not take become -"},
    {"script", "exec, args",
     "with its interpreter: exec = the interpreter, the script first in args; "
     "interpreter none: exec = the script"},
    {"args", "args", "after the script; a string is split as PM2 splits it (quotes group)"},
    {"exec_interpreter", "exec",
     "default by extension as PM2's (.js node, .py python3, .sh bash...); none: the script runs "
     "itself"},
    {"node_args", "args", "before the script"},
    {"cwd", "cwd", "a relative one is relative to this file (PM2: to where pm2 ran)"},
    {"instances", "instances", "max and 0 become 0 (one per CPU); -1 (CPUs minus one) also 0"},
    {"exec_mode", "protocol",
     "cluster: protocol = \"node\" (musterd is the cluster primary); fork: \"none\", one plain "
     "process per instance"},
    {"env", "env", "values become strings; muster gives workers no other variable of the shell"},
    {"env_<name>", "environments.<name>.env",
     "selected by musterd --environment <name>, as pm2 start --env <name>"},
    {"port", "env", "PORT in env, as PM2 does"},
    {"max_memory_restart", "max_memory", "K, M, G are KiB, MiB, GiB, as PM2 counts them"},
    {"kill_timeout", "stop_timeout", "PM2 stops with SIGINT: stop_signal = \"SIGINT\" is set too"},
    {"listen_timeout", "ready_timeout",
     "a worker not ready by then is replaced (PM2 goes on as if it were ready)"},
    {"wait_ready", "",
     "muster has no 'ready' message: a node app is ready once it listens (ready = \"auto\")"},
    {"shutdown_with_message", "",
     "musterd stops node workers with Node's disconnect, then stop_signal"},
    {"autostart", "autostart", "false: started only by musterctl start"},
    {"autorestart", "restart", "false: restart = \"never\""},
    {"stop_exit_codes", "restart",
     "[0] is restart = \"on-failure\"; other codes have no equivalent"},
    {"max_restarts", "max_restarts",
     "muster counts restarts within restart_window (60s), PM2 those shorter than min_uptime"},
    {"min_uptime", "min_uptime", "a worker that lived this long resets its backoff"},
    {"restart_delay", "restart_delay, restart_delay_max",
     "both set to it: a fixed delay, as PM2's (muster doubles it otherwise)"},
    {"exp_backoff_restart_delay", "restart_delay, restart_delay_max",
     "first delay, up to 15s as PM2 (muster doubles it, PM2 multiplies by 1.5)"},
    {"out_file", "output, output_file",
     "muster writes stdout and stderr of an app into one file: the out_file"},
    {"error_file", "output, output_file",
     "the same file as out_file (one file per app); a different one is a comment"},
    {"log_file", "output, output_file", "the combined file: output_file"},
    {"disable_logs", "output", "output = \"null\""},
    {"merge_logs", "", "muster always writes one stream per app, its lines tagged by worker"},
    {"log_type", "", "no JSON lines in output files; musterd's own log has log_format = \"json\""},
    {"log_date_format", "", "output files get the lines as written; musterd's log stamps them"},
    {"time", "", "output files get the lines as written; musterd's log stamps them"},
    {"watch", "watch", "true: the app's cwd; paths and globs as they are"},
    {"ignore_watch", "watch_ignore", "PM2 takes regular expressions too: globs only here"},
    {"watch_delay", "", "muster restarts once changes have settled"},
    {"watch_options", "", "chokidar's options; no equivalent"},
    {"uid", "user", "musterd must run as root"},
    {"gid", "group", "musterd must run as root"},
    {"cron_restart", "",
     "no timed restarts: a systemd timer or cron job running musterctl restart APP"},
    {"namespace", "", "a [groups] entry names several apps for one command"},
    {"instance_var", "", "workers get MUSTER_INSTANCE (their slot), not NODE_APP_INSTANCE"},
    {"increment_var", "", "no per-instance value: MUSTER_INSTANCE is the slot"},
    {"pid_file", "", "musterctl status shows the pids"},
    {"treekill", "", "muster always signals the worker's whole process group"},
    {"filter_env", "", "workers get no variable of musterd's unless env_inherit names it"},
    {"name_prefix", "", "no equivalent"},
    {"append_env_to_name", "", "no equivalent"},
    {"source_map_support", "", "give node --enable-source-maps in node_args"},
    {"disable_source_map_support", "", "give node --enable-source-maps in node_args"},
    {"execute_command", "", "no equivalent"},
    {"force", "", "an app is declared once"},
    {"install_url", "", "no module installation"},
    {"post_update", "", "no deployment hooks"},
    {"username", "", "PM2's record of who started it"},
    {"windowsHide", "", "Windows only"},
    {"kill_retry_time", "", "musterd is told of an exit at once (pidfd)"},
    {"write", "", "no equivalent"},
    {"vizion", "", "PM2's versioning metadata"},
    {"pmx", "", "PM2.io monitoring; muster serves Prometheus metrics (metrics_listen)"},
    {"automation", "", "PM2.io monitoring; muster serves Prometheus metrics (metrics_listen)"},
    {"io", "", "PM2.io monitoring; muster serves Prometheus metrics (metrics_listen)"},
    {"trace", "", "PM2.io tracing; no equivalent"},
    {"disable_trace", "", "PM2.io tracing; no equivalent"},
    {"deep_monitoring", "", "PM2.io monitoring; no equivalent"},
    {"event_loop_inspector", "",
     "PM2.io monitoring; inspect = \"HOST:PORT\" runs Node's inspector"},
    {"v8", "", "PM2.io monitoring; no equivalent"},
}};

const std::array<CommandMapping, 26> kCommands = {{
    {"pm2 start ecosystem.config.js", "musterd -c muster.toml",
     "after musterctl import pm2 ecosystem.config.js > muster.toml; as a service: systemctl "
     "start musterd"},
    {"pm2 start ecosystem.config.js --env production", "musterd --environment production",
     "or [daemon] environment = \"production\""},
    {"pm2 start app.js -i max", "", "declare the app in muster.toml, then musterctl reload-config"},
    {"pm2 start NAME", "musterctl start NAME", ""},
    {"pm2 stop NAME", "musterctl stop NAME", "all for every app"},
    {"pm2 restart NAME", "musterctl restart NAME", ""},
    {"pm2 reload NAME", "musterctl reload NAME",
     "rolling, a new worker ready before an old one goes"},
    {"pm2 delete NAME", "", "remove its [apps.NAME] table, then musterctl reload-config"},
    {"pm2 list", "musterctl status", "also pm2 ls, pm2 status"},
    {"pm2 jlist", "musterctl --json status", ""},
    {"pm2 describe NAME", "musterctl describe NAME", "also pm2 show NAME"},
    {"pm2 monit", "musterctl top", ""},
    {"pm2 logs", "musterctl logs --follow", ""},
    {"pm2 logs NAME --lines 200", "musterctl logs NAME -n 200", "add --follow to keep reading"},
    {"pm2 flush", "", "output files are rotated by size (output_max_size, output_keep)"},
    {"pm2 reloadLogs", "", "SIGUSR1 to musterd reopens every output_file"},
    {"pm2 scale NAME 4", "musterctl scale NAME 4", "until the next start; instances in the config"},
    {"pm2 reset NAME", "musterctl reset NAME", ""},
    {"pm2 sendSignal SIGUSR2 NAME", "musterctl kill ID --signal SIGUSR2", "per worker id"},
    {"pm2 trigger NAME ACTION", "musterctl send NAME JSON", "arrives in process.on('message')"},
    {"pm2 restart NAME --update-env", "musterctl reload-config", "env lives in the config file"},
    {"pm2 save", "", "the config file is the saved list"},
    {"pm2 resurrect", "", "musterd starts every app of its config when it starts"},
    {"pm2 startup", "", "systemctl enable --now musterd (the package's unit)"},
    {"pm2 kill", "musterctl shutdown", ""},
    {"pm2 ping", "musterctl ping", "musterctl version for the versions"},
}};

const KeyMapping* find_key(std::string_view key) {
  if (key.size() > 4 && key.substr(0, 4) == "env_") key = "env_<name>";
  for (const auto& row : kKeys)
    if (row.pm2 == key) return &row;
  return nullptr;
}

namespace {

// PM2's own aliases (schema.json "alias", and verifyConfs' cmd/command).
struct Alias {
  std::string_view alias;
  std::string_view key;
};
constexpr std::array<Alias, 17> kAliases = {{
    {"exec", "script"},
    {"cmd", "script"},
    {"command", "script"},
    {"interpreter", "exec_interpreter"},
    {"interpreterArgs", "node_args"},
    {"interpreter_args", "node_args"},
    {"out", "out_file"},
    {"output", "out_file"},
    {"out_log", "out_file"},
    {"error", "error_file"},
    {"err", "error_file"},
    {"err_file", "error_file"},
    {"err_log", "error_file"},
    {"log", "log_file"},
    {"combine_logs", "merge_logs"},
    {"cron", "cron_restart"},
    {"pid", "pid_file"},
}};

// Config.js also takes each key in camelCase (maxMemoryRestart).
std::string snake_case(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string canonical_key(std::string_view key) {
  if (key == "user") return "uid";
  for (const auto& a : kAliases)
    if (a.alias == key) return std::string(a.key);
  if (key == "windowsHide" || key.substr(0, 4) == "env_") return std::string(key);
  const std::string snake = snake_case(key);
  if (snake != key && find_key(snake) != nullptr) return snake;
  return std::string(key);
}

}  // namespace muster::cli::pm2
