#include "cli/check.h"

#include <boost/json.hpp>

#include <algorithm>
#include <iostream>

#include "cli/exit_code.h"
#include "config/config.h"
#include "config/environment_names.h"
#include "config/file_safety.h"

namespace muster::cli {

namespace json = boost::json;

namespace {

json::object error_json(const config::ConfigError& e) {
  return {{"file", e.file}, {"line", e.line},       {"column", e.column},
          {"key", e.key},   {"message", e.message}, {"text", e.to_string()}};
}

std::string count_text(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// What is valid but likely unwanted, one line each. A node app without
// NODE_ENV in its env (or inherited from musterd's) runs Express and others
// in development mode: error pages with stack traces go to clients.
std::vector<std::string> warnings(const config::Config& config) {
  std::vector<std::string> out;
  for (const auto& app : config.apps) {
    if (app.protocol != config::Protocol::node || app.env.contains("NODE_ENV")) continue;
    const auto& inherit = app.env_inherit;
    if (std::find(inherit.begin(), inherit.end(), "NODE_ENV") != inherit.end() ||
        std::find(inherit.begin(), inherit.end(), "*") != inherit.end())
      continue;
    out.push_back("apps." + app.name +
                  ": a node app without NODE_ENV: Express and others run in development mode "
                  "(stack traces in error pages); set env = { NODE_ENV = \"production\" }");
  }
  return out;
}

// " (2 apps)", " (1 app, environment production)".
std::string summary(const config::Config& config) {
  std::string out = " (" + count_text(config.apps.size(), "app");
  if (!config.environment.empty()) out += ", environment " + config::printable(config.environment);
  return out + ")";
}

// Without --environment, every other environment the file defines is loaded
// too, as `musterd --environment ENV` would: a typo in an overlay that is not
// selected here would otherwise pass until the day it is. Their errors that
// the selected load did not report already are added, each naming its
// environment.
void check_other_environments(const std::string& path, const std::string& selected,
                              std::vector<config::ConfigError>& errors) {
  std::vector<std::string> seen;
  for (const auto& e : errors) seen.push_back(e.to_string());
  for (const std::string& name : config::defined_environments(path)) {
    if (name == selected) continue;
    config::LoadOptions load;
    load.host = config::HostChecks::run;
    load.environment = name;
    for (config::ConfigError e : config::load_file(path, load).errors) {
      if (std::find(seen.begin(), seen.end(), e.to_string()) != seen.end()) continue;
      seen.push_back(e.to_string());
      e.message = "with environment " + config::printable(name) + ": " + e.message;
      errors.push_back(std::move(e));
    }
  }
}

}  // namespace

int run_check(const std::string& path, const CheckOptions& options) {
  const bool as_json = options.json;
  config::LoadResult result;
  // As root, refuse what a root musterd would refuse before even parsing.
  if (auto unsafe = config::refuse_unsafe_config(path)) {
    result.errors.push_back(config::ConfigError{path, 0, 0, "", *unsafe});
  } else {
    config::LoadOptions load;
    load.host = config::HostChecks::run;
    if (!options.environment.empty()) load.environment = options.environment;
    load.print = options.print;
    result = config::load_file(path, load);
    if (options.environment.empty())
      check_other_environments(path, result.config ? result.config->environment : "",
                               result.errors);
  }
  const bool ok = result.errors.empty() && result.config.has_value();

  if (as_json) {
    json::object out{{"ok", ok}, {"file", path}};
    if (ok) {
      out["apps"] = result.config->apps.size();
      out["environment"] = result.config->environment;
      if (options.print) out["effective"] = result.effective_toml;
      json::array list;
      for (auto& w : warnings(*result.config)) list.push_back(json::string(path + ": " + w));
      out["warnings"] = std::move(list);
    } else {
      json::array errors;
      for (const auto& e : result.errors) errors.push_back(error_json(e));
      out["error"] = path + ": " + count_text(result.errors.size(), "error");
      out["errors"] = std::move(errors);
    }
    std::cout << json::serialize(out) << '\n';
    return ok ? kExitOk : kExitUsage;
  }

  if (!ok) {
    for (const auto& e : result.errors) std::cerr << e.to_string() << '\n';
    if (result.errors.empty()) std::cerr << path << ": invalid config\n";
    return kExitUsage;
  }
  for (const auto& w : warnings(*result.config)) std::cerr << path << ": warning: " << w << '\n';
  if (options.print) {
    std::cout << result.effective_toml;
    if (!result.effective_toml.ends_with('\n')) std::cout << '\n';
    std::cout << std::flush;
    std::cerr << path << ": ok" << summary(*result.config) << "\n";
  } else {
    std::cout << path << ": ok" << summary(*result.config) << "\n";
  }
  return kExitOk;
}

}  // namespace muster::cli
