// Starting one worker process: executable lookup, environment, working
// directory, stdio, fds handed over on purpose, and the per-child setup done
// between fork and exec (new session, parent-death signal, privilege drop).
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
// Boost 1.81's Process v2 with BOOST_PROCESS_USE_STD_FS names boost::optional
// and boost::remove_pointer without including them.
#include <boost/optional.hpp>
#include <boost/type_traits/remove_pointer.hpp>
#include <type_traits>
#include <boost/process/v2/process.hpp>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "config/config.h"

namespace muster::daemon {

struct Credentials {
  uid_t uid;
  gid_t gid;
  std::vector<gid_t> groups;  // supplementary groups
};

// Resolves the app's user/group for a privilege drop. Returns nullopt-like
// empty variant (std::monostate) when the app names neither.
std::variant<std::monostate, Credentials, std::string> resolve_credentials(
    const config::AppConfig& app);

// Finds `exec` the way a shell would (absolute, relative to cwd if it contains a
// '/', else along `path`); returns an error message if there is no such
// executable file.
std::variant<std::string, std::string> resolve_executable(const std::string& exec,
                                                          const std::string& cwd,
                                                          const std::string& path);

struct SpawnSpec {
  std::string executable;                      // resolved path
  std::vector<std::string> args;
  std::string cwd;
  std::vector<std::string> env;                // "KEY=VALUE", the whole environment
  int stdout_fd = -1;                          // also used for stderr; -1 = inherit
  std::vector<std::pair<int, int>> pass_fds;   // (fd in daemon, fd number in worker)
  std::optional<Credentials> credentials;
  // systemd protocol: env holds "LISTEN_PID=" + kListenPidPlaceholder, and the
  // child writes its own pid there between fork and exec.
  bool set_listen_pid = false;
};

inline constexpr const char* kListenPidPlaceholder = "0000000000";

using Process = boost::process::v2::process;

// Forks and execs; the error message says which step failed (e.g. exec's errno).
std::variant<Process, std::string> spawn(boost::asio::io_context& io, const SpawnSpec& spec);

}  // namespace muster::daemon
