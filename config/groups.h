// Internal to config/: the [groups] table.
#pragma once

#include "config/section.h"

namespace muster::config::detail {

// Reads the value of the top-level `groups` key into config.groups, in file
// order, once config.apps is read: each group names apps of the file, each
// once, at least one; no group takes an app's name or "all".
void read_groups(const toml::node& groups, Config& config, ErrorList& errors);

}  // namespace muster::config::detail
