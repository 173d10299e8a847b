// The control socket's file on disk, handled so that nobody can make musterd
// (often root) act on a file that is not its own: the directory is opened
// once without trusting the path (config/socket_dir.h) and every later step is
// relative to that fd; the socket gets its mode from the umask at bind (no
// chmod by path); the chown to control_group goes through an O_PATH fd of the
// inode just bound; a stale socket is removed only if it is musterd's uid's
// and nobody answers on it; at exit only the inode musterd bound is unlinked.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <variant>

#include "config/config.h"
#include "config/pinned_dir.h"
#include "ipc/unique_fd.h"

namespace muster::daemon {

class ControlSocketFile {
 public:
  // Binds (does not listen on) a new Unix stream socket at
  // config.control_socket with `mode`, its group `group` if set. The
  // default's directory is created if missing, 0700 (0711 with a group:
  // the group's members must reach the socket); a configured one's
  // directories 0755.
  static std::variant<ControlSocketFile, std::string> bind(const config::DaemonConfig& config,
                                                           unsigned mode,
                                                           std::optional<gid_t> group);

  ControlSocketFile(ControlSocketFile&&) = default;
  ControlSocketFile& operator=(ControlSocketFile&&) = default;

  // The bound socket, for listen() and the acceptor (once).
  ipc::UniqueFd take_socket() { return std::move(socket_); }
  // Unlinks the file if it is still the inode bound (idempotent).
  void remove();

 private:
  ControlSocketFile() = default;
  std::optional<std::string> clear_stale();
  std::optional<std::string> chown_group(gid_t group);

  ipc::UniqueFd socket_;
  config::PinnedDir dir_;
  std::string name_;   // the socket's name in it
  std::string path_;   // for messages
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

}  // namespace muster::daemon
