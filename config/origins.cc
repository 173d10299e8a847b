// Where each key of an app came from (KeyOrigins, for `musterctl describe`).
#include "config/apps.h"

namespace muster::config::detail {
namespace {

KeyOrigin origin_of(const toml::node& node) {
  const toml::source_position& at = node.source().begin;
  return KeyOrigin{static_cast<int>(at.line), static_cast<int>(at.column), ""};
}

}  // namespace

void record_origins(const toml::table& app_table, KeyOrigins& out) {
  for (const auto& [key, node] : app_table) {
    out.keys[std::string(key.str())] = origin_of(node);
    if (key.str() != "env" || !node.is_table()) continue;
    for (const auto& [name, value] : *node.as_table())
      out.keys["env." + std::string(name.str())] = origin_of(value);
  }
}

}  // namespace muster::config::detail
