// Internal to config/: the [apps.NAME] tables.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/section.h"

namespace muster::config::detail {

// Reads the value of the top-level `apps` key into `out`, in file order.
// `dir` is the config file's directory, against which relative paths resolve.
void read_apps(const toml::node& apps, const std::filesystem::path& dir, ErrorList& errors,
               std::vector<AppConfig>& out);

// `path` made absolute against `dir` and normalized, without a trailing '/'.
std::string resolve_path(const std::filesystem::path& dir, const std::string& path);

}  // namespace muster::config::detail
