// Starting one worker process: executable lookup, environment, working
// directory, stdio, fds handed over on purpose, and the per-child setup done
// between fork and exec (new session, parent-death signal, privilege drop).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "daemon/common/credentials.h"
#include "daemon/common/errno_text.h"

namespace muster::daemon {

struct SpawnSpec {
  std::string executable;  // resolved path
  std::vector<std::string> args;
  std::string cwd;
  std::vector<std::string> env;               // "KEY=VALUE", the whole environment
  int stdout_fd = -1;                         // -1 = inherit musterd's
  int stderr_fd = -1;                         // (may be stdout_fd); -1 = inherit
  std::vector<std::pair<int, int>> pass_fds;  // (fd in daemon, fd number in worker)
  std::optional<Credentials> credentials;
  // systemd protocol: env holds "LISTEN_PID=" + kListenPidPlaceholder, and the
  // child writes its own pid there between fork and exec.
  bool set_listen_pid = false;
};

inline constexpr const char* kListenPidPlaceholder = "0000000000";

// Starts the process (clone with CLONE_VM | CLONE_VFORK, then exec) and
// returns its pid once it has exec'd, or the error saying which step failed
// (with its errno, e.g. exec's); a child that failed is reaped. The child is the
// caller's to reap: ProcessLauncher (daemon/launch/process_launcher.h) owns it and
// collects its exit through its pidfd.
Result<pid_t> spawn(const SpawnSpec& spec);

// An argv / envp array for exec over `strings` (null-terminated); the
// strings must outlive the exec, and stay unmoved.
std::vector<char*> exec_pointers(std::vector<std::string>& strings);

}  // namespace muster::daemon
