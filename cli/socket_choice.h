// Which control socket musterctl talks to, and why that one. The reason goes
// into every "cannot reach musterd" error: the usual cause of one is a guess
// gone wrong (a stale $MUSTER_SOCKET, a config file only root may read), and
// the path alone does not say which guess it was.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace muster::cli {

struct SocketChoice {
  std::string path;
  std::string origin;  // completes "that path is ...", e.g. "from $MUSTER_SOCKET"
  // musterd's default: its directory, which must be private to this user
  // (config/default_socket.h); checked before connecting. Empty otherwise.
  std::string private_dir = {};
  // --daemon-uid / $MUSTER_DAEMON_UID: a uid trusted to serve the socket
  // besides root and this user (cli/client.h).
  std::optional<uid_t> daemon_uid = std::nullopt;
};

// Without -s: $MUSTER_SOCKET; else the control_socket of musterd's config
// ($MUSTER_CONFIG or /etc/muster/muster.toml) when it is readable and valid,
// so that `sudo musterctl status` finds the packaged daemon's
// /run/muster/muster.sock; else musterd's default (config/default_socket.h).
SocketChoice socket_from_environment();

// -s PATH, which wins over the rest.
SocketChoice socket_from_option(std::string path);

}  // namespace muster::cli
