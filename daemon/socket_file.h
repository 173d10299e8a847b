// A unix socket file musterd made for a worker (bound on demand), and how it
// is removed again: only that file, in the directory it was made in. The
// directory is held open from the bind on, so a directory on the path that is
// renamed, or replaced by a symlink, later on does not move the removal
// elsewhere, and a file put in the socket's place is left alone.
#pragma once

#include <sys/types.h>

#include <string>

#include "ipc/unique_fd.h"

namespace muster::daemon {

class SocketFile {
 public:
  SocketFile() = default;
  // `dir`: the directory the socket was bound in (O_PATH is enough); `name`:
  // its entry there (no '/'); `dev`/`ino`/`uid`: the socket file's identity as
  // fstatat saw it right after the bind.
  SocketFile(ipc::UniqueFd dir, std::string name, dev_t dev, ino_t ino, uid_t uid);
  SocketFile(SocketFile&&) noexcept = default;
  SocketFile& operator=(SocketFile&&) noexcept = default;
  // Removes the file (remove()).
  ~SocketFile();

  // Unlinks `name` in the held directory if it is still a socket with the
  // same device, inode and owner; never follows a symlink. True if removed.
  bool remove();
  // Keeps the file: remove() and the destructor leave it.
  void release() { dir_.reset(); }

 private:
  ipc::UniqueFd dir_;
  std::string name_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  uid_t uid_ = 0;
};

}  // namespace muster::daemon
