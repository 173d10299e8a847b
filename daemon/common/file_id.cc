#include "daemon/common/file_id.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace muster::daemon {

FileId file_id(const struct stat& st) {
  return FileId{st.st_dev, st.st_ino, st.st_mode & S_IFMT, st.st_ctim.tv_sec, st.st_ctim.tv_nsec};
}

std::optional<FileId> file_id_at(int dir, const std::string& name) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return std::nullopt;
  return file_id(st);
}

bool unlink_if_same(int dir, const std::string& name, FileId id) {
  auto now = file_id_at(dir, name);
  if (!now) return false;
  if (*now != id) {
    errno = EEXIST;
    return false;
  }
  return ::unlinkat(dir, name.c_str(), 0) == 0;
}

}  // namespace muster::daemon
