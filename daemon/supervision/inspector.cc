#include "daemon/supervision/inspector.h"

#include <filesystem>

namespace muster::daemon {

bool runs_node_directly(std::string_view executable) {
  std::string name = std::filesystem::path(executable).filename().string();
  return name == "node" || name == "nodejs";
}

void add_inspector(SpawnSpec& spec, const std::string& address) {
  std::string option = "--inspect=" + address;
  if (runs_node_directly(spec.executable)) {
    spec.args.insert(spec.args.begin(), option);
    return;
  }
  // Node splits NODE_OPTIONS at spaces; the address has none.
  constexpr std::string_view kName = "NODE_OPTIONS=";
  for (std::string& entry : spec.env) {
    if (!entry.starts_with(kName)) continue;
    if (entry.size() > kName.size()) entry += ' ';
    entry += option;
    return;
  }
  spec.env.push_back(std::string(kName) + option);
}

}  // namespace muster::daemon
