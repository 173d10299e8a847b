// The file of a unix socket musterd binds, often as root, at a path another
// user may be able to reach: a stale file is removed only if it is a socket
// nobody listens on, the mode comes from the umask at bind (never a chmod by
// name), the owner is set on the very inode bind created, and at exit the
// file is removed only while its name still leads to that inode. Everything
// is done relative to the socket's directory, resolved once without
// following a link (config/pinned_dir.h).
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <variant>

#include "config/pinned_dir.h"
#include "daemon/file_id.h"

namespace muster::daemon {

using config::PathError;
using config::PinnedDir;

// Is something listening on this unix socket address? Never blocks.
bool unix_listener_alive(const sockaddr_storage& addr, socklen_t len);

class SocketFile {
 public:
  // Binds `fd`, a unix socket not yet listening, at `path` (absolute, no
  // longer than sun_path allows). Refused: a link on the way to its
  // directory; as root, a directory on the way that another user could
  // change (bind() takes the whole path, so one swapped meanwhile would
  // redirect it); a file at `path` that is not a socket, or a socket with a
  // live listener (EADDRINUSE). The file gets mode `mode & 0777` and, unless
  // -1, owner `uid` and group `gid`.
  static std::variant<SocketFile, PathError> bind(int fd, const std::string& path, mode_t mode,
                                                  uid_t uid, gid_t gid);

  // The socket file at `path` that someone else bound in the directory
  // `dir` (daemon/unix_bind.h: a child with a worker's credentials), taken
  // over so that remove() treats it as its own: it must still be a socket
  // with device `dev` and inode `ino` there.
  static std::variant<SocketFile, PathError> adopt(ipc::UniqueFd dir, const std::string& path,
                                                   dev_t dev, ino_t ino);

  const std::string& path() const { return path_; }
  // Removes the file if its name in the directory bind used still leads to
  // the inode bind created: a file that replaced it stays, and so does
  // whatever a link swapped in for the directory now points to.
  // True if it was removed.
  bool remove() const;

 private:
  std::optional<PathError> clear_stale() const;

  std::string path_;
  PinnedDir dir_;
  std::string name_;
  FileId id_;
};

}  // namespace muster::daemon
