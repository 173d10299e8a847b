// The environments a config file defines, for `musterctl check`, which
// checks every one of them, not only the one selected.
#pragma once

#include <string>
#include <vector>

namespace muster::config {

// The ENV of every [apps.NAME.environments.ENV] in the file at `path`,
// sorted, each once; empty when the file cannot be read or parsed (loading
// it reports why).
std::vector<std::string> defined_environments(const std::string& path);

}  // namespace muster::config
