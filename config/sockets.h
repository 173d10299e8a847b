// Internal to config/: the [sockets.NAME] tables.
#pragma once

#include <filesystem>
#include <vector>

#include "config/section.h"

namespace muster::config::detail {

// Reads the value of the top-level `sockets` key into `out`, in file order.
// Every declared name is kept, even one with errors, so that an app naming
// it gets no second error (the config is dropped when there are errors).
void read_sockets(const toml::node& sockets, const std::filesystem::path& dir,
                  ErrorList& errors, std::vector<SocketConfig>& out);

}  // namespace muster::config::detail
