// Internal to config/: the [sockets.NAME] tables.
#pragma once

#include <filesystem>
#include <vector>

#include "config/section.h"

namespace muster::config::detail {

// Reads the value of the top-level `sockets` key into `out`, in file order.
// Every declared name is kept, even one with errors, so that an app naming
// it gets no second error (the config is dropped when there are errors).
void read_sockets(const toml::node& sockets, const std::filesystem::path& dir, ErrorList& errors,
                  std::vector<SocketConfig>& out);

// O_NONBLOCK belongs to a socket's open file description, which every holder
// shares: a socket that systemd-protocol workers get blocking (nonblocking
// unset) cannot also serve node apps, since musterd's own accept (rr) or
// libuv's needs it non-blocking. Each such node app's listing is an error.
void check_blocking_sockets(const toml::table& root, const Config& config, ErrorList& errors);

}  // namespace muster::config::detail
