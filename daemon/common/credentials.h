// The user and groups an app's processes (and the files made for them) run
// as, resolved from its `user`/`group` settings.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace muster::daemon {

struct Credentials {
  uid_t uid;
  gid_t gid;
  std::vector<gid_t> groups;  // supplementary groups
};

// Resolves the app's user/group for a privilege drop: nullopt when the app
// names neither.
Result<std::optional<Credentials>> resolve_credentials(const config::AppConfig& app);

}  // namespace muster::daemon
