// The control socket's file on disk: a SocketFile (daemon/network/socket_file.h) in
// the directory config/socket_dir.h judges and opens, with the control
// socket's own rules on top. It is bound by its name from inside that
// directory, so no directory above it is looked up again; a stale socket is
// removed only if it is musterd's uid's and nobody answers on it (another
// user's is theirs to remove); the mode bind gave it must be the one asked
// for; the group is set on the inode bound; at exit only that inode is
// unlinked.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/result.h"
#include "config/config.h"
#include "daemon/network/socket_file.h"
#include "ipc/unique_fd.h"

namespace muster::daemon {

class ControlSocketFile {
 public:
  // Binds (does not listen on) a new Unix stream socket at
  // config.control_socket with `mode`, its group `group` if set. The
  // default's directory is created if missing, 0700 (0711 with a group:
  // the group's members must reach the socket); a configured one's
  // directories 0755.
  static Result<ControlSocketFile> bind(const config::DaemonConfig& config, unsigned mode,
                                        std::optional<gid_t> group);

  ControlSocketFile(ControlSocketFile&&) = default;
  ControlSocketFile& operator=(ControlSocketFile&&) = default;

  // The bound socket, for listen() and the acceptor (once).
  ipc::UniqueFd take_socket() { return std::move(socket_); }
  // Unlinks the file if it is still the inode bound (idempotent).
  void remove() { file_.remove(); }

 private:
  ControlSocketFile(ipc::UniqueFd socket, SocketFile file)
      : socket_(std::move(socket)), file_(std::move(file)) {}

  ipc::UniqueFd socket_;
  SocketFile file_;
};

}  // namespace muster::daemon
