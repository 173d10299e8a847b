// HOME, USER, LOGNAME and SHELL for a worker, as systemd sets them for a
// service with User= (src/core/exec-invoke.c build_environment, with the
// record cleaned as get_user_creds(USER_CREDS_CLEAN) does): a Node app's
// os.homedir(), npm and many libraries read them, and a worker started by
// Node's primary from a login shell has them.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace muster::daemon {

// The fields of a passwd entry that matter here.
struct LoginRecord {
  std::string name;
  std::string home;
  std::string shell;
};

// The variables systemd sets from `record`: USER and LOGNAME always; HOME
// unless it is empty, "/" or not absolute; SHELL unless it is empty, not
// absolute or a placeholder (nologin, false, true).
std::vector<std::string> login_variables(const LoginRecord& record);

// The passwd entry of `uid` (NSS: call it in the daemon when the spawn is
// prepared, never in the child between clone and exec). nullopt when the uid
// has no entry.
std::optional<LoginRecord> login_record(uid_t uid);

struct WorkerIdentity;

// The worker's environment: of the daemon's only PATH and what the app's
// env_inherit names; then the app's `env`; then login_variables() of `uid`
// (the user it runs as) where neither of those set them; then what muster
// itself promises every worker. `path` gets the worker's PATH.
std::vector<std::string> worker_environment(const config::AppConfig& app, const WorkerIdentity& who,
                                            uid_t uid, std::string& path);

}  // namespace muster::daemon
