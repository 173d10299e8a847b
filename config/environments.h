// Internal to config/: which environment applies, and its overlays
// ([apps.NAME.environments.ENV]) applied onto the apps' tables before they
// are read, so that every check of an app key holds for the effective value.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/section.h"

namespace muster::config::detail {

struct EnvironmentChoice {
  std::string name;  // "" for none
  EnvironmentSource source = EnvironmentSource::none;
};

// `option` (--environment), else `variable` (MUSTER_ENVIRONMENT's value, null
// when unset), else [daemon] environment in `root`; an empty one counts as
// not given.
EnvironmentChoice choose_environment(const std::optional<std::string>& option, const char* variable,
                                     const toml::table& root);

// Moves the chosen environment's overlay of each app into the app's table in
// `root` (tables such as env merge key by key, other values replace; the
// nodes keep their positions, and errors at them name the overlay's key),
// then takes every `environments` table out of the apps. Returns, by app
// name, the keys its overlay set ("instances", "env.NODE_ENV"), in file
// order. Errors: an environments table or overlay that is not a table, an
// overlay setting `name` or `environments`, a chosen environment that no
// app defines.
std::map<std::string, std::vector<std::string>> apply_environment(toml::table& root,
                                                                  const EnvironmentChoice& choice,
                                                                  ErrorList& errors);

}  // namespace muster::config::detail
