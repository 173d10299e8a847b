// Loading a config file: TOML parsing, the top level and [daemon].
// The [sockets.NAME] tables are read in sockets.cc, [apps.NAME] in apps.cc.
#include "config/config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "config/apps.h"
#include "config/environments.h"
#include "config/file_text.h"
#include "config/groups.h"
#include "config/host_checks.h"
#include "config/print.h"
#include "config/section.h"
#include "config/sockets.h"

namespace muster::config {
namespace fs = std::filesystem;
namespace {

using detail::ErrorList;
using detail::Section;

// metrics_listen = "127.0.0.1:9464": a TCP address; "" = off.
void read_metrics_listen(Section& s, const fs::path& dir, DaemonConfig& daemon) {
  std::string text;
  if (!s.read_string("metrics_listen", text) || text.empty()) return;
  const toml::node& node = *s.find("metrics_listen");
  auto parsed = parse_listen(text, dir.string());
  if (!parsed) {
    s.error(node, "metrics_listen", parsed.error().message);
    return;
  }
  SocketConfig socket = *parsed;
  if (socket.family == SocketConfig::Family::unix_path) {
    s.error(node, "metrics_listen",
            R"(expected a TCP address like "127.0.0.1:9464" or "[::1]:9464", got )" +
                detail::quote(text));
    return;
  }
  socket.name = "metrics";
  socket.backlog = 64;
  daemon.metrics = std::move(socket);
}

void read_daemon(Section& s, const fs::path& dir, DaemonConfig& daemon) {
  std::string socket;
  if (s.read_nonempty_string("control_socket", socket) && !socket.empty()) {
    daemon.control_socket = detail::resolve_path(dir, socket);
    daemon.control_socket_default = false;
    if (auto too_long = detail::unix_path_too_long(daemon.control_socket)) {
      s.error(*s.find("control_socket"), "control_socket", *too_long);
    }
  }
  s.read_mode("control_mode", daemon.control_mode);
  s.read_string("control_group", daemon.control_group);
  s.read_choice(
      "log_level", daemon.log_level,
      {LogLevel::trace, LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error});
  s.read_choice("log_format", daemon.log_format, {LogFormat::text, LogFormat::json});
  s.read_duration("shutdown_timeout", daemon.shutdown_timeout);
  read_metrics_listen(s, dir, daemon);
  std::string environment;  // chosen by choose_environment()
  s.read_nonempty_string("environment", environment);
  s.report_unknown_keys();
}

Config read_root(const toml::table& root, const std::string& path, ErrorList& errors) {
  Config config;
  std::error_code ignored;
  fs::path absolute = fs::absolute(path, ignored).lexically_normal();
  config.path = absolute.string();
  fs::path dir = absolute.parent_path();
  config.daemon.control_socket = default_control_socket();

  Section top(root, "", errors);
  if (const toml::node* daemon = top.find("daemon")) {
    if (const toml::table* table = daemon->as_table()) {
      Section section(*table, "daemon", errors);
      read_daemon(section, dir, config.daemon);
    } else {
      top.wrong_type(*daemon, "daemon", "a table like [daemon]");
    }
  }
  if (const toml::node* sockets = top.find("sockets")) {
    detail::read_sockets(*sockets, dir, errors, config.sockets);
  }
  detail::AppContext context{dir, config.sockets, detail::default_scheduling(errors)};
  if (const toml::node* apps = top.find("apps")) {
    detail::read_apps(*apps, context, errors, config.apps);
  }
  if (const toml::node* groups = top.find("groups")) detail::read_groups(*groups, config, errors);
  detail::check_blocking_sockets(root, config, errors);
  detail::check_inspect_ranges(root, config, errors);
  detail::check_after(root, config, errors);
  top.report_unknown_keys();
  return config;
}

}  // namespace

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

const AppConfig* Config::find_app(const std::string& name) const {
  for (const AppConfig& app : apps) {
    if (app.name == name) return &app;
  }
  return nullptr;
}

const SocketConfig* Config::find_socket(const std::string& name) const {
  for (const SocketConfig& socket : sockets) {
    if (socket.name == name) return &socket;
  }
  return nullptr;
}

const GroupConfig* Config::find_group(std::string_view name) const {
  for (const GroupConfig& group : groups) {
    if (group.name == name) return &group;
  }
  return nullptr;
}

std::optional<std::vector<std::string>> Config::apps_named(std::string_view name) const {
  std::vector<std::string> out;
  const GroupConfig* group = find_group(name);
  for (const AppConfig& app : apps) {
    bool member =
        group ? std::find(group->apps.begin(), group->apps.end(), app.name) != group->apps.end()
              : name == kAllApps || app.name == name;
    if (member) out.push_back(app.name);
  }
  if (out.empty() && name != kAllApps) return std::nullopt;
  return out;
}

LoadResult load_file(const std::string& path, HostChecks host) {
  LoadOptions options;
  options.host = host;
  return load_file(path, options);
}

LoadResult load_string(const std::string& text, const std::string& path, HostChecks host) {
  LoadOptions options;
  options.host = host;
  return load_string(text, path, options);
}

LoadResult load_file(const std::string& path, const LoadOptions& options) {
  auto refused = [&](const std::string& why) {
    ErrorList errors(path);
    errors.add_unplaced("", why);
    LoadResult result;
    result.errors = errors.take_sorted();
    return result;
  };
  auto read = read_config_text(path);
  if (!read) return refused(read.error().message);
  const std::string& text = *read;
  // Nothing in it is what a file looks like between its truncation and its
  // first write: never a config (applied, it would stop every app). A config
  // with no apps says so with at least a [daemon] table or a comment.
  if (blank(text))
    return refused(
        std::string(text.empty() ? "the file is empty" : "the file holds only whitespace") +
        ": a config file caught mid-write (truncated, not yet written) looks like "
        "this, so it is refused. Write the new config to a temporary file and rename "
        "it over this one. (A config with no apps says so with a comment or a "
        "[daemon] table.)");
  auto result = load_string(text, path, options);
  if (result.config) result.config->text = text;
  return result;
}

LoadResult load_string(const std::string& text, const std::string& path,
                       const LoadOptions& options) {
  LoadResult result;
  ErrorList errors(path);
  toml::table root;
  try {
    root = toml::parse(std::string_view(text), std::string_view(path));
  } catch (const toml::parse_error& e) {
    errors.add(e.source(), "", e.description());
    result.errors = errors.take_sorted();
    return result;
  }
  auto choice =
      detail::choose_environment(options.environment, std::getenv(kEnvironmentVariable), root);
  auto overlaid = detail::apply_environment(root, choice, errors);
  Config config = read_root(root, path, errors);
  config.environment = choice.name;
  config.environment_source = choice.source;
  for (AppConfig& app : config.apps) {
    auto keys = overlaid.find(app.name);
    if (keys == overlaid.end()) continue;
    app.origin = AppOrigin{choice.name, keys->second};
    // The overlay's nodes were moved into the app's table: their places are
    // already recorded; say which environment set them (describe).
    for (const std::string& key : keys->second)
      if (auto it = app.origins.keys.find(key); it != app.origins.keys.end())
        it->second.environment = choice.name;
  }
  if (options.host == HostChecks::run) detail::check_host(root, config, errors);
  result.errors = errors.take_sorted();
  if (!result.errors.empty()) return result;
  if (options.print) result.effective_toml = detail::print_effective(root, config);
  result.config = std::move(config);
  return result;
}

}  // namespace muster::config
