// [apps.NAME.environments.ENV]: choosing the environment and merging its
// overlays into the apps' TOML tables.
#include "config/environments.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace muster::config::detail {
namespace {

// The entries of `table` in file order, mutable (in_file_order's are const).
std::vector<std::pair<const toml::key*, toml::node*>> entries_in_file_order(toml::table& table) {
  std::vector<std::pair<const toml::key*, toml::node*>> entries;
  for (auto& [key, node] : table) entries.emplace_back(&key, &node);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const toml::source_position& x = a.second->source().begin;
    const toml::source_position& y = b.second->source().begin;
    return std::tie(x.line, x.column) < std::tie(y.line, y.column);
  });
  return entries;
}

// Errors at `node` and everything in it name keys under `to`, not `from`.
void rename_all(const toml::node& node, ErrorList& errors, const std::string& from,
                const std::string& to) {
  errors.rename_at(node.source(), from, to);
  if (const toml::table* table = node.as_table()) {
    for (const auto& [key, value] : *table) {
      errors.rename_at(key.source(), from, to);
      rename_all(value, errors, from, to);
    }
  } else if (const toml::array* array = node.as_array()) {
    for (const toml::node& item : *array) rename_all(item, errors, from, to);
  }
}

// Moves `overlay`'s entries into `base`: a table into a table key by key,
// anything else replacing. `prefix` names the keys recorded in `keys`.
void merge(toml::table& base, toml::table& overlay, const std::string& prefix,
           std::vector<std::string>& keys) {
  for (auto [key, value] : entries_in_file_order(overlay)) {
    std::string name = prefix + std::string(key->str());
    toml::node* existing = base.get(key->str());
    if (existing != nullptr && existing->is_table() && value->is_table()) {
      merge(*existing->as_table(), *value->as_table(), name + ".", keys);
      continue;
    }
    keys.push_back(name);
    value->visit(
        [&, key = key](auto& concrete) { base.insert_or_assign(*key, std::move(concrete)); });
  }
}

// An overlay sets app keys; `name` is the table's and environments do not nest.
void refuse_forbidden_keys(toml::table& overlay, const std::string& path, ErrorList& errors) {
  for (const char* key : {"name", "environments"}) {
    auto it = overlay.find(key);
    if (it == overlay.end()) continue;
    errors.add(it->first.source(), path + "." + key,
               std::string(key) == "name"
                   ? "an environment may not set name: an app is named by its table"
                   : "environments do not nest: an environment may not set environments");
    overlay.erase(it);
  }
}

std::string defined_list(const std::set<std::string>& names) {
  if (names.empty()) return "the file defines none";
  std::string out = "the file defines: ";
  for (const auto& name : names) out += (name == *names.begin() ? "" : ", ") + name;
  return out;
}

void refuse_undefined(const toml::table& root, const EnvironmentChoice& choice,
                      const std::set<std::string>& defined, ErrorList& errors) {
  std::string message = "no app defines the environment " + quote(choice.name) +
                        " ([apps.NAME.environments." + choice.name + "]); " + defined_list(defined);
  if (choice.source == EnvironmentSource::file) {
    errors.add(root["daemon"]["environment"].node()->source(), "daemon.environment", message);
  } else {
    errors.add_unplaced(to_string(choice.source), message);
  }
}

// One app's environments: checked, the chosen one merged, all taken out.
void apply_to_app(toml::table& app, const std::string& app_path, const EnvironmentChoice& choice,
                  std::set<std::string>& defined, std::vector<std::string>& keys,
                  ErrorList& errors) {
  toml::node* environments = app.get("environments");
  if (environments == nullptr) return;
  std::string environments_path = app_path + ".environments";
  if (toml::table* table = environments->as_table()) {
    for (auto [key, overlay] : entries_in_file_order(*table)) {
      std::string env_path = environments_path + "." + std::string(key->str());
      defined.emplace(key->str());
      toml::table* overlay_table = overlay->as_table();
      if (overlay_table == nullptr) {
        errors.add(
            overlay->source(), env_path,
            "expected a table of app keys like [" + env_path + "], got " + type_name(*overlay));
        continue;
      }
      refuse_forbidden_keys(*overlay_table, env_path, errors);
      if (key->str() != choice.name) continue;
      rename_all(*overlay_table, errors, app_path, env_path);
      merge(app, *overlay_table, "", keys);
    }
  } else {
    errors.add(environments->source(), environments_path,
               "expected a table of environments like [" + environments_path +
                   ".production], got " + type_name(*environments));
  }
  app.erase("environments");
}

}  // namespace

EnvironmentChoice choose_environment(const std::optional<std::string>& option, const char* variable,
                                     const toml::table& root) {
  if (option && !option->empty()) return {*option, EnvironmentSource::option};
  if (variable != nullptr && *variable != '\0') return {variable, EnvironmentSource::variable};
  if (auto text = root["daemon"]["environment"].value<std::string>(); text && !text->empty())
    return {*text, EnvironmentSource::file};
  return {};
}

std::map<std::string, std::vector<std::string>> apply_environment(toml::table& root,
                                                                  const EnvironmentChoice& choice,
                                                                  ErrorList& errors) {
  std::map<std::string, std::vector<std::string>> overlaid;
  std::set<std::string> defined;
  if (toml::table* apps = root.get_as<toml::table>("apps")) {
    for (auto& [name, node] : *apps) {
      // What is not a table is read_apps' to report.
      if (toml::table* app = node.as_table()) {
        std::string app_name(name.str());
        std::vector<std::string> keys;
        apply_to_app(*app, "apps." + app_name, choice, defined, keys, errors);
        if (!keys.empty()) overlaid[app_name] = std::move(keys);
      }
    }
  }
  if (!choice.name.empty() && !defined.contains(choice.name))
    refuse_undefined(root, choice, defined, errors);
  return overlaid;
}

}  // namespace muster::config::detail

namespace muster::config {

const char* to_string(EnvironmentSource source) {
  switch (source) {
    case EnvironmentSource::none: return "";
    case EnvironmentSource::option: return "--environment";
    case EnvironmentSource::variable: return kEnvironmentVariable;
    case EnvironmentSource::file: return "[daemon] environment";
  }
  return "";
}

}  // namespace muster::config
