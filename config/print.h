// Internal to config/: the effective config written back as TOML.
#pragma once

#include <string>

#include "config/section.h"

namespace muster::config::detail {

// `root` once apply_environment() has merged the overlays, as TOML: tables
// and keys in file order (apps' order is theirs), [daemon] environment left
// out, and a leading comment naming the file and the environment applied.
// Loaded again (from the same directory, for relative paths) with no
// environment, it gives the same Config.
std::string print_effective(const toml::table& root, const Config& config);

}  // namespace muster::config::detail
