// musterctl check --print: the effective config as TOML, in file order.
#include "config/print.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

namespace muster::config::detail {
namespace {

// A bare key as written, else a quoted one.
std::string key_text(std::string_view key) {
  bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
  return bare ? std::string(key) : quote(key);
}

// Not a setting of the effective config: the overlays it chose are applied.
bool left_out(const std::string& table_path, std::string_view key) {
  return table_path == "daemon" && key == "environment";
}

void print_table(std::ostream& out, const toml::table& table, const std::string& path) {
  auto entries = in_file_order(table);
  bool has_values = false;
  for (const auto& [key, node] : entries)
    has_values = has_values || (!node->is_table() && !left_out(path, key->str()));
  bool has_tables = std::any_of(entries.begin(), entries.end(),
                                [](const auto& entry) { return entry.second->is_table(); });
  if (!path.empty() && (has_values || !has_tables)) out << "\n[" << path << "]\n";
  for (const auto& [key, node] : entries) {
    if (node->is_table() || left_out(path, key->str())) continue;
    out << key_text(key->str()) << " = " << toml::toml_formatter(*node) << "\n";
  }
  for (const auto& [key, node] : entries) {
    if (!node->is_table()) continue;
    std::string name = key_text(key->str());
    print_table(out, *node->as_table(), path.empty() ? name : path + "." + name);
  }
}

}  // namespace

std::string print_effective(const toml::table& root, const Config& config) {
  std::ostringstream out;
  out << "# The effective config of " << printable(config.path) << "\n";
  if (config.environment.empty()) {
    out << "# with no environment selected: no overlay applied.\n";
  } else {
    out << "# with the environment " << quote(config.environment) << " (from "
        << to_string(config.environment_source)
        << ") applied;\n# the apps' environments tables are left out.\n";
  }
  out << "# Relative paths are relative to "
      << printable(std::filesystem::path(config.path).parent_path().string()) << ".\n";
  print_table(out, root, "");
  return out.str();
}

}  // namespace muster::config::detail
