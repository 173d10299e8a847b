#include "cli/check.h"

#include <boost/json.hpp>

#include <iostream>

#include "cli/exit_code.h"
#include "config/config.h"
#include "config/file_safety.h"

namespace muster::cli {

namespace json = boost::json;

namespace {

json::object error_json(const config::ConfigError& e) {
  return {{"file", e.file},       {"line", e.line}, {"column", e.column},
          {"key", e.key},         {"message", e.message},
          {"text", e.to_string()}};
}

std::string count_text(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
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
  std::cout << path << ": ok (" << count_text(result.config->apps.size(), "app") << ")\n";
  return kExitOk;
}

}  // namespace muster::cli
