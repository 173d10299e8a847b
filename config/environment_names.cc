#include "config/environment_names.h"

#include <toml++/toml.h>

#include <set>

namespace muster::config {

std::vector<std::string> defined_environments(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error&) {
    return {};
  }
  std::set<std::string> names;
  if (const toml::table* apps = root.get_as<toml::table>("apps")) {
    for (const auto& [name, app] : *apps) {
      const toml::table* table = app.as_table();
      const toml::table* environments =
          table != nullptr ? table->get_as<toml::table>("environments") : nullptr;
      if (environments == nullptr) continue;
      for (const auto& [env, overlay] : *environments) names.emplace(env.str());
    }
  }
  return {names.begin(), names.end()};
}

}  // namespace muster::config
