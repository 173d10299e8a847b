// The [apps.NAME] tables: one AppConfig each, with cross-key checks.
#include "config/apps.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace muster::config::detail {
namespace fs = std::filesystem;
namespace {

bool valid_app_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
  });
}

// Environment names go to execve() as "NAME=value": a '=' would split them.
void check_env_names(Section& s) {
  const toml::node* env = s.find("env");
  if (env == nullptr || !env->is_table()) return;
  for (const auto& [name, value] : *env->as_table()) {
    if (name.str().empty() || name.str().find('=') != std::string_view::npos) {
      s.errors().add(name.source(), s.path_of("env"),
                     "expected environment variable names without '=', got " +
                         quote(name.str()));
    }
  }
}

void check_output_file(Section& s, AppConfig& app, const std::string& file,
                       const fs::path& dir) {
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

AppConfig read_app(Section& s, const std::string& name, const fs::path& dir) {
  AppConfig app;
  app.name = name;

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

  if (s.read_count("instances", app.instances) && app.instances == 0) {
    app.instances = available_parallelism();
  }
  s.read_choice("protocol", app.protocol, {Protocol::none});
  s.read_string("user", app.user);
  s.read_string("group", app.group);

  bool output_ok =
      s.read_choice("output", app.output,
                    {Output::log, Output::file, Output::inherit, Output::null});
  std::string output_file;
  if (s.read_string("output_file", output_file) && output_ok) {
    check_output_file(s, app, output_file, dir);
  }

  s.read_choice("restart", app.restart,
                {RestartMode::always, RestartMode::on_failure, RestartMode::never});
  bool delays_ok = s.read_duration("restart_delay", app.restart_delay);
  delays_ok = s.read_duration("restart_delay_max", app.restart_delay_max) && delays_ok;
  if (delays_ok) check_restart_delays(s, app);
  s.read_duration("min_uptime", app.min_uptime);
  s.read_count("max_restarts", app.max_restarts);
  s.read_duration("restart_window", app.restart_window);
  s.read_signal("stop_signal", app.stop_signal);
  s.read_duration("stop_timeout", app.stop_timeout);

  s.report_unknown_keys();
  return app;
}

}  // namespace

void read_apps(const toml::node& apps, const fs::path& dir, ErrorList& errors,
               std::vector<AppConfig>& out) {
  const toml::table* table = apps.as_table();
  if (table == nullptr) {
    errors.add(apps.source(), "apps",
               std::string("expected a table of apps like [apps.web], got ") + type_name(apps));
    return;
  }
  // toml++ keeps keys sorted by name; the file order is their position.
  std::vector<std::pair<toml::source_position, AppConfig>> read;
  for (const auto& [key, node] : *table) {
    std::string name(key.str());
    std::string path = "apps." + name;
    const toml::table* app_table = node.as_table();
    if (app_table == nullptr) {
      errors.add(node.source(), path, std::string("expected a table, got ") + type_name(node));
      continue;
    }
    if (!valid_app_name(name)) {
      errors.add(key.source(), path,
                 "expected an app name of letters, digits, '_', '.' and '-', got " +
                     quote(name));
    }
    Section section(*app_table, path, errors);
    read.emplace_back(app_table->source().begin, read_app(section, name, dir));
  }
  std::stable_sort(read.begin(), read.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.line, a.first.column) < std::tie(b.first.line, b.first.column);
  });
  for (auto& [position, app] : read) out.push_back(std::move(app));
}

std::string resolve_path(const fs::path& dir, const std::string& path) {
  fs::path resolved = (dir / path).lexically_normal();  // `/` keeps an absolute `path`
  if (!resolved.has_filename() && resolved != resolved.root_path()) {
    resolved = resolved.parent_path();
  }
  return resolved.string();
}

}  // namespace muster::config::detail
