// Every setting of an app as `musterctl describe` shows it: the key as the
// config file spells it and its effective value as JSON (durations and sizes
// as the file writes them: "100ms", "10MiB"). `env` is not among them: the
// environment is shown on its own, with secret-looking values masked.
#pragma once

#include <boost/json.hpp>

#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"

namespace muster::daemon {

using Setting = std::pair<std::string_view, boost::json::value>;

// In the order of the README's key table.
std::vector<Setting> app_settings(const config::AppConfig& app);

}  // namespace muster::daemon
