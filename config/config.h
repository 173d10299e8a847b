// Validated configuration: the TOML file turned into plain structs.
// This module is the only user of toml++; everything else sees these types.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"

namespace muster::config {

using Duration = std::chrono::milliseconds;

// Documented bounds (README, muster.toml(5)): beyond them a typo (an extra
// zero) would fork thousands of processes or fill a disk with old files
// before anyone noticed. The daemon's `scale` uses the same bound.
constexpr unsigned kMaxInstances = 4096;
constexpr unsigned kMaxOutputKeep = 1000;
// Sockets one app's Node workers may have musterd bind on demand at once
// (max_on_demand_sockets): each is an fd of musterd's (two under rr).
constexpr unsigned kMaxOnDemandSockets = 1024;
// musterctl takes `all` for "every app" (start, stop, reload, restart, logs),
// so no app may have that name.
constexpr const char* kAllApps = "all";

// One problem found in a config file. `line`/`column` are 1-based; 0 when the
// problem has no position (e.g. the file could not be read).
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key;  // dotted path, e.g. "apps.web.restart_delay"
  std::string message;

  // "FILE:LINE:COLUMN: key: message"
  std::string to_string() const;
};

enum class LogLevel { trace, debug, info, warn, error };
enum class LogFormat { text, json };
enum class Protocol { none, node, systemd };
enum class Scheduling { rr, none, reuseport };
// Which worker an rr connection goes to: the next free one (none), or the one
// of the instance slot its client's address hashes to (client_ip).
enum class Affinity { none, client_ip };
// How a node worker's IPC channel carries messages (NODE_CHANNEL_SERIALIZATION_MODE,
// Node's lib/internal/child_process/serialization.js): JSON lines, or V8's
// value serialization with a length prefix.
enum class Serialization { json, advanced };
// When a new worker counts as ready (status, reload gating, ready_timeout).
// automatic ("auto", node only): at `listening`, or, for a worker that asks
// for no server, once it has been online a quiet while (Node lets workers run
// without servers).
enum class Ready { spawn, online, listening, notify, automatic };
// journal: each line one entry in the systemd journal, with fields naming
// the worker (daemon/output/journal.h).
enum class Output { log, file, journal, inherit, null };
enum class RestartMode { always, on_failure, never };

// A daemon-owned listening socket ([sockets.NAME]).
struct SocketConfig {
  enum class Family { ipv4, ipv6, unix_path };
  std::string name;
  std::string listen;  // as written: "HOST:PORT", "[V6]:PORT", "unix:/path"
  Family family = Family::ipv4;
  std::string host;        // numeric address ("0.0.0.0", "::1"); empty for unix
  std::uint16_t port = 0;  // 0 = ephemeral, chosen once at bind
  std::string path;        // unix: absolute (relative resolved against the config dir)
  int backlog = 511;
  unsigned mode = 0660;    // unix only
  std::string owner;       // unix only: user owning the socket file ("" = musterd's)
  std::string group;       // unix only: its group ("" = musterd's)
  bool reuseport = false;  // SO_REUSEPORT on the daemon's socket
  // systemd's NonBlocking=: O_NONBLOCK on the socket systemd-protocol workers
  // get. Off, they get it blocking, as from a .socket unit by default.
  bool nonblocking = false;
  // Only sockets bound on demand for Node workers set these (never the config
  // file): UDP for dgram (lib/dgram.js), IPV6_V6ONLY as the worker's flags
  // say (unset: dual stack for "::" only), SO_REUSEADDR on a UDP socket.
  bool datagram = false;
  std::optional<bool> ipv6_only;
  bool reuseaddr = false;

  bool operator==(const SocketConfig&) const = default;
};

struct DaemonConfig {
  std::string control_socket;  // resolved default applied (see default_control_socket)
  // The config does not name control_socket: musterd's default is used, whose
  // directory must be private to musterd's uid (config/default_socket.h).
  bool control_socket_default = true;
  unsigned control_mode = 0600;
  std::string control_group;  // empty = none
  LogLevel log_level = LogLevel::info;
  LogFormat log_format = LogFormat::text;
  Duration shutdown_timeout = std::chrono::seconds(10);
  // metrics_listen: where /metrics is served ("HOST:PORT" or "[V6]:PORT",
  // TCP only); unset = no metrics endpoint.
  std::optional<SocketConfig> metrics;
};

// Who chose the environment whose overlays apply (EnvironmentChoice).
enum class EnvironmentSource { none, option, variable, file };

// Where an app's settings came from, for describing it. Not a setting: two
// AppOrigins always compare equal, so that reload-config never restarts an
// app because only this changed.
struct AppOrigin {
  std::string environment;                 // the overlay applied, "" for none
  std::vector<std::string> overlaid_keys;  // what it set ("instances", "env.NODE_ENV")

  bool operator==(const AppOrigin&) const { return true; }
};

// Where one key of an app's settings came from: its place in the config file
// (1-based line and column of the value), and the environment overlay that
// set it ("" for the app's own table). A key with no origin has its default.
struct KeyOrigin {
  int line = 0;
  int column = 0;
  std::string environment;
};

// The origin of each key an app's table sets ("exec", "env.API_TOKEN"), for
// `musterctl describe`. Bookkeeping, not a setting: it always compares equal,
// so that reload-config (which compares AppConfigs) never restarts an app
// because its keys moved to other lines.
struct KeyOrigins {
  std::map<std::string, KeyOrigin, std::less<>> keys;

  const KeyOrigin* find(std::string_view key) const {
    auto it = keys.find(key);
    return it == keys.end() ? nullptr : &it->second;
  }
  bool operator==(const KeyOrigins&) const { return true; }
};

struct AppConfig {
  std::string name;
  std::string exec;  // as written
  std::vector<std::string> args;
  std::string cwd;  // absolute (relative ones resolved against the config dir)
  std::map<std::string, std::string> env;
  // Names of musterd's environment variables the workers get too (env_inherit);
  // {"*"}: all of them. See config::inherited_environment.
  std::vector<std::string> env_inherit;
  unsigned instances = 1;  // 0 in the file is replaced by available parallelism
                           // (at most kMaxInstances)
  Protocol protocol = Protocol::none;
  std::string user;
  std::string group;
  Output output = Output::log;
  std::string output_file;                           // absolute when output == file
  std::uint64_t output_max_size = 10 * 1024 * 1024;  // rotate output_file beyond this
  unsigned output_keep = 5;                          // rotated files kept (output_file.1 ... .N)
  RestartMode restart = RestartMode::always;
  Duration restart_delay = std::chrono::milliseconds(100);
  Duration restart_delay_max = std::chrono::seconds(30);
  Duration min_uptime = std::chrono::seconds(5);
  unsigned max_restarts = 10;
  Duration restart_window = std::chrono::seconds(60);
  Duration failed_retry = std::chrono::minutes(5);  // a failed app is started again
                                                    // after this; 0 = never
  int stop_signal = 15;                             // SIGTERM
  Duration stop_timeout = std::chrono::seconds(5);
  // A worker leaving on its own (its cluster.worker.disconnect()) may drain
  // this long before SIGKILL; 0 = as long as it takes, as under Node.
  Duration drain_timeout{0};
  std::vector<std::string> sockets;        // names of declared [sockets.*], in order
  Scheduling scheduling = Scheduling::rr;  // default from MUSTER_SCHED_POLICY /
                                           // NODE_CLUSTER_SCHED_POLICY when unset
  Affinity affinity = Affinity::none;      // rr only
  // Node: a worker's user message (process.send) goes to every other live
  // worker of the app, as a primary running @socket.io/cluster-adapter's
  // setupPrimary() does (daemon/supervision/relay.h).
  bool relay = false;
  Serialization serialization = Serialization::json;  // node only
  unsigned max_pending = 1024;
  Duration pending_timeout = std::chrono::seconds(10);
  Ready ready = Ready::spawn;  // default by protocol: none spawn, node automatic,
                               // systemd notify
  Duration ready_timeout = std::chrono::seconds(30);
  Duration watchdog{0};          // systemd: WATCHDOG=1 expected this often; 0 = off
  unsigned reload_surge = 1;     // rolling reload: new workers started at a time
  std::uint64_t max_memory = 0;  // RSS bytes above which a worker is replaced; 0 = off
  // Node: a worker's listen() on an address no declared socket answers is
  // bound by musterd on demand, with the worker's credentials (on_demand),
  // at most this many at once for the app, each closed this long after the
  // last worker using it left (daemon/network/on_demand.h).
  bool on_demand = true;
  unsigned max_on_demand_sockets = 64;
  Duration on_demand_grace = std::chrono::seconds(10);
  // inspect = "HOST:PORT" (node only): instance n's worker gets Node's
  // --inspect on PORT+n, the same port at every restart of its slot
  // (inspector_address); unset = off. Only family, host, port and listen set.
  std::optional<SocketConfig> inspect;
  // false: defined and checked (its sockets bound) but started only by
  // `musterctl start` (or `start all`).
  bool autostart = true;
  // Apps of the same file this one starts after, each once it has a ready
  // worker, and stops before (config/start_order.h).
  std::vector<std::string> after;
  // Development: changes under these paths (relative to cwd; a directory
  // recursively) or to files whose names match these globs (anywhere under
  // cwd) reload the app, once quiet for watch_delay (daemon/watch/). Names
  // matching watch_ignore, node_modules and .git are never watched.
  std::vector<std::string> watch;
  std::vector<std::string> watch_ignore;
  Duration watch_delay = std::chrono::milliseconds(500);
  AppOrigin origin;    // not a setting: equal for every two apps
  KeyOrigins origins;  // where each key set came from; never part of ==

  bool operator==(const AppConfig&) const = default;
};

// [groups] NAME = ["api", "jobs"]: a name every verb that takes an app takes.
struct GroupConfig {
  std::string name;
  std::vector<std::string> apps;  // as listed (each an app, once)

  bool operator==(const GroupConfig&) const = default;
};

struct Config {
  std::string path;  // absolute path of the file this came from
  // The file's text as load_file() read it: an in-place upgrade restores
  // the config in force from it, not from a file that may have changed.
  std::string text;
  DaemonConfig daemon;
  std::vector<SocketConfig> sockets;  // in file order
  std::vector<AppConfig> apps;        // in file order
  std::vector<GroupConfig> groups;    // in file order
  // The environment whose [apps.NAME.environments.ENV] overlays apply ("" for
  // none), and who chose it: reload-config passes an --environment on again.
  std::string environment;
  EnvironmentSource environment_source = EnvironmentSource::none;

  const AppConfig* find_app(const std::string& name) const;
  const SocketConfig* find_socket(const std::string& name) const;
  const GroupConfig* find_group(std::string_view name) const;
  // The apps a verb's APP names, in config order: every app for "all", a
  // group's members, or the app itself; nullopt when no app or group has
  // that name. The one place "all" and groups are expanded.
  std::optional<std::vector<std::string>> apps_named(std::string_view name) const;
};

struct LoadResult {
  std::optional<Config> config;     // set iff errors is empty
  std::vector<ConfigError> errors;  // every problem of the file, in file order
  // With LoadOptions::print and no errors: the effective config as TOML
  // (print_effective in config/print.cc), which loads back to the same Config.
  std::string effective_toml;
};

// Whether loading also asks this host if the config can run here: users and
// groups exist, each exec is found, cwds are directories, output files can be
// written (config/host_checks.cc). The rest of the checks depend on the text
// alone. musterd and `check` run them; what merely reads the file does not.
enum class HostChecks { run, skip };

// The environment variable that selects an environment (below --environment,
// above [daemon] environment).
constexpr const char* kEnvironmentVariable = "MUSTER_ENVIRONMENT";

struct LoadOptions {
  HostChecks host = HostChecks::skip;
  // musterd --environment / check --environment: chosen over
  // MUSTER_ENVIRONMENT and [daemon] environment; empty counts as not given.
  std::optional<std::string> environment;
  bool print = false;  // fill LoadResult::effective_toml
};

// Reads and validates a whole file; reports all errors in one pass.
LoadResult load_file(const std::string& path, HostChecks host);
LoadResult load_file(const std::string& path, const LoadOptions& options);
// Same, from text (`path` is used for messages and to resolve relative
// paths). Text has no host of its own, so by default only the text is checked.
LoadResult load_string(const std::string& text, const std::string& path,
                       HostChecks host = HostChecks::skip);
LoadResult load_string(const std::string& text, const std::string& path,
                       const LoadOptions& options);

// Default control socket: default_socket().path (config/default_socket.h).
std::string default_control_socket();
// `text` with control characters escaped as TOML writes them ("\n",
// "\u0001"), so that a message echoing what a user gave (a config error, a
// name in a control reply) never puts raw ones on a terminal or in a log.
std::string printable(std::string_view text);

// Default config path: $MUSTER_CONFIG, else /etc/muster/muster.toml.
std::string default_config_path();

// "0.0.0.0:8000", "[::1]:80", "unix:/run/x.sock" -> a SocketConfig with family,
// host, port, path filled (name/backlog/mode untouched); the error if bad.
// `base_dir` resolves relative unix paths.
Result<SocketConfig> parse_listen(const std::string& text, const std::string& base_dir);

// inspect = "HOST:PORT": where instance `instance`'s Node inspector listens,
// "HOST:PORT+instance" ("[V6]:PORT" for IPv6) as --inspect takes it; nullopt
// when the app has no inspect or the port would pass 65535.
std::optional<std::string> inspector_address(const AppConfig& app, unsigned instance);
// Why `instances` workers of `app` cannot each have their inspector port: the
// range PORT..PORT+instances-1 passes 65535, or holds the port of a declared
// TCP socket, of metrics_listen or of another app's inspect range on an
// address that overlaps; nullopt when it fits (or the app has no inspect).
// Other apps' ranges count with their config instances.
std::optional<std::string> inspect_range_problem(const AppConfig& app, unsigned instances,
                                                 const Config& config);

// "250ms", "1m30s", "10s", "1h" -> milliseconds; nullopt if malformed.
std::optional<Duration> parse_duration(const std::string& text);
// 90000ms -> "1m30s", 250ms -> "250ms", 0 -> "0s"; parse_duration reads it back.
std::string format_duration(Duration duration);
// "512MiB", "10B", "1GiB" -> bytes; nullopt if malformed.
std::optional<std::uint64_t> parse_size(const std::string& text);
// "SIGTERM", "TERM", "sigterm", "15" (and "SIG34", as signal_name writes
// unnamed ones) -> signal number; nullopt if unknown.
std::optional<int> parse_signal(const std::string& text);
// 15 -> "SIGTERM" (or "SIG<n>" when unnamed).
std::string signal_name(int signo);
// CPUs in this process's affinity mask (at least 1).
unsigned available_parallelism();

const char* to_string(LogLevel);
const char* to_string(LogFormat);
const char* to_string(Protocol);
const char* to_string(Scheduling);
const char* to_string(Affinity);
const char* to_string(Serialization);
const char* to_string(Ready);
const char* to_string(Output);
const char* to_string(RestartMode);
// "--environment", "MUSTER_ENVIRONMENT", "[daemon] environment"; "" for none.
const char* to_string(EnvironmentSource);

}  // namespace muster::config
