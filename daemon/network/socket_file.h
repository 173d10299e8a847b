// The file of a unix socket musterd binds, often as root, at a path another
// user may be able to reach: a stale file is removed only if it is a socket
// nobody listens on, the mode comes from the umask at bind (never a chmod by
// name), the owner is set on the very inode bind created, and at exit the
// file is removed only while its name still leads to that inode
// (daemon/common/file_id.h). Everything is done relative to the socket's directory,
// resolved once without trusting the path (config/pinned_dir.h). Used for
// [sockets.NAME] unix sockets (daemon/network/listen_socket.cc), Node workers'
// on-demand ones (daemon/network/unix_bind.cc) and the control socket
// (daemon/control/control_socket_file.cc).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <variant>

#include "config/pinned_dir.h"
#include "daemon/common/file_id.h"

namespace muster::daemon {

using config::PathError;
using config::PinnedDir;

class SocketFile {
 public:
  // How bind() and the check for a live listener reach the socket.
  enum class Address {
    // By its whole path, which getsockname() then reports: Node's
    // server.address(), and what musterd compares when systemd hands a
    // socket back (daemon/network/listen_socket.cc, adopt_listen).
    path,
    // By its name, from inside the pinned directory (fchdir): no directory
    // above it is looked up again. The control socket, whose address
    // nobody reads back.
    name_in_dir,
  };

  // What was at the socket's name before bind, and is left there.
  struct InTheWay {
    enum class What {
      unexamined,       // fstatat failed (errno_value)
      not_a_socket,     // a file, a link, a directory...: not musterd's to touch
      live_socket,      // something answers on it
      anothers_socket,  // a stale socket of another uid, with `only_ours`
      unremovable,      // the stale socket could not be removed (errno_value)
    };
    What what;
    int errno_value = 0;
    uid_t owner = 0;  // of what is there
  };

  SocketFile() = default;
  // The socket `name` in `dir`, `path` for messages, not bound yet.
  SocketFile(PinnedDir dir, std::string name, std::string path, Address address);

  // Binds `fd`, a unix socket not yet listening, at `path` (absolute, no
  // longer than sun_path allows), by its whole path. Refused: a link on the
  // way to its directory; as root, a directory on the way that another user
  // could change (a swapped one would take bind, and every client that
  // connects by the path, elsewhere); a file at `path` that is not a
  // socket, or a socket with a live listener (EADDRINUSE). A stale socket
  // there is removed first. The file gets mode `mode & 0777` and, unless -1,
  // owner `uid` and group `gid`.
  static Result<SocketFile, PathError> bind(int fd, const std::string& path, mode_t mode, uid_t uid,
                                            gid_t gid);

  // The socket file at `path` that someone else bound in the directory
  // `dir` (daemon/network/unix_bind.h: a child with a worker's credentials), taken
  // over so that remove() treats it as its own: it must still be a socket
  // with device `dev` and inode `ino` there.
  static Result<SocketFile, PathError> adopt(ipc::UniqueFd dir, const std::string& path, dev_t dev,
                                             ino_t ino);

  // Removes a stale socket at the name: one nobody listens on and, with
  // `only_ours`, that musterd's uid owns. nullopt when the name is free.
  std::optional<InTheWay> clear_stale(bool only_ours) const;
  // Binds `fd` at the name, as the static bind() does once its directory is
  // pinned and the name cleared.
  Result<void, PathError> bind(int fd, mode_t mode, uid_t uid, gid_t gid);

  const std::string& path() const { return path_; }
  // An in-place upgrade carries these (and the directory's fd) so that the
  // new musterd adopt()s the same file and removes it at close as its own.
  int dir_fd() const { return dir_.fd(); }
  const FileId& id() const { return id_; }
  mode_t mode() const { return mode_; }  // the permission bits bind gave the file
  // Removes the file if its name in the directory bind used still leads to
  // the inode bind created: a file that replaced it stays (with a warning),
  // and so does whatever a link swapped in for the directory now points to.
  // Once: true if it was removed.
  bool remove();

 private:
  template <class Call>
  int at_address(Call call) const;

  PinnedDir dir_;
  std::string name_;
  std::string path_;
  Address address_ = Address::path;
  FileId id_;
  mode_t mode_ = 0;
};

}  // namespace muster::daemon
