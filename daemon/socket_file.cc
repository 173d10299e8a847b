#include "daemon/socket_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

namespace muster::daemon {

SocketFile::SocketFile(ipc::UniqueFd dir, std::string name, dev_t dev, ino_t ino, uid_t uid)
    : dir_(std::move(dir)), name_(std::move(name)), dev_(dev), ino_(ino), uid_(uid) {}

SocketFile::~SocketFile() { remove(); }

bool SocketFile::remove() {
  if (!dir_ || name_.empty() || name_.find('/') != std::string::npos) return false;
  // unlinkat(dirfd, name) looks at one entry of the held directory and never
  // follows a symlink. Between the check and the unlink only someone who can
  // write that directory could swap the entry, and they could remove it anyway.
  struct stat st {};
  bool ours = ::fstatat(dir_.get(), name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
              S_ISSOCK(st.st_mode) && st.st_dev == dev_ && st.st_ino == ino_ &&
              st.st_uid == uid_;
  bool removed = ours && ::unlinkat(dir_.get(), name_.c_str(), 0) == 0;
  dir_.reset();
  return removed;
}

}  // namespace muster::daemon
