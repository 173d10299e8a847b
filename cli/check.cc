#include "cli/check.h"

#include <boost/json.hpp>

#include <algorithm>
#include <iostream>

#include "cli/exit_code.h"
#include "config/config.h"
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

}  // namespace

int run_check(const std::string& path, bool as_json) {
  config::LoadResult result;
  // As root, refuse what a root musterd would refuse before even parsing.
  if (auto unsafe = config::refuse_unsafe_config(path))
    result.errors.push_back(config::ConfigError{path, 0, 0, "", *unsafe});
  else
    result = config::load_file(path, config::HostChecks::run);
  const bool ok = result.errors.empty() && result.config.has_value();

  if (as_json) {
    json::object out{{"ok", ok}, {"file", path}};
    if (ok) {
      out["apps"] = result.config->apps.size();
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
  std::cout << path << ": ok (" << count_text(result.config->apps.size(), "app") << ")\n";
  return kExitOk;
}

}  // namespace muster::cli
