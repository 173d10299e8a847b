// [groups] NAME = ["api", "jobs"]: names that stand for several apps.
#include "config/groups.h"

#include <algorithm>

namespace muster::config::detail {
namespace {

// False (and the error) when `name` cannot name a group.
bool check_group_name(const toml::key& key, const Config& config, ErrorList& errors) {
  std::string name(key.str());
  std::string path = "groups." + name;
  if (!valid_name(name)) {
    errors.add(key.source(), path,
               "expected a group name of letters, digits, '_', '.' and '-', got " + quote(name));
  } else if (name == kAllApps) {
    errors.add(key.source(), path,
               std::string("the group name \"") + kAllApps +
                   "\" is reserved: musterctl takes it for every app");
  } else if (config.find_app(name) != nullptr) {
    errors.add(key.source(), path,
               "a group may not have an app's name: musterctl " + name +
                   " would be ambiguous (rename the group or the app)");
  } else {
    return true;
  }
  return false;
}

GroupConfig read_group(const std::string& name, const toml::node& node, const Config& config,
                       ErrorList& errors) {
  GroupConfig group{name, {}};
  std::string path = "groups." + name;
  const toml::array* array = node.as_array();
  if (array == nullptr) {
    errors.add(node.source(), path,
               std::string(R"(expected an array of app names like ["api", "jobs"], got )") +
                   type_name(node));
    return group;
  }
  if (array->empty()) errors.add(node.source(), path, "expected at least one app, got none");
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    std::string key = path + "[" + std::to_string(i) + "]";
    const toml::value<std::string>* text = item.as_string();
    if (text == nullptr) {
      errors.add(item.source(), key, std::string("expected an app name, got ") + type_name(item));
      continue;
    }
    const std::string& app = text->get();
    if (config.find_app(app) == nullptr) {
      errors.add(item.source(), key,
                 "no app named " + quote(app) + " is declared (declare [apps." + app + "])");
    } else if (std::find(group.apps.begin(), group.apps.end(), app) != group.apps.end()) {
      errors.add(item.source(), key, "expected each app once, got " + quote(app) + " again");
    } else {
      group.apps.push_back(app);
    }
  }
  return group;
}

}  // namespace

void read_groups(const toml::node& groups, Config& config, ErrorList& errors) {
  const toml::table* table = groups.as_table();
  if (table == nullptr) {
    errors.add(groups.source(), "groups",
               std::string(R"(expected a table of groups like backend = ["api", "jobs"], got )") +
                   type_name(groups));
    return;
  }
  for (const auto& [key, node] : in_file_order(*table)) {
    if (!check_group_name(*key, config, errors)) continue;
    config.groups.push_back(read_group(std::string(key->str()), *node, config, errors));
  }
}

}  // namespace muster::config::detail
