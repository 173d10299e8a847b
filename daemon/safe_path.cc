#include "daemon/safe_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "config/file_safety.h"

namespace muster::daemon {
namespace fs = std::filesystem;

namespace {

PathError error_at(int dir, const std::string& name, const std::string& shown) {
  int err = errno;
  // O_NOFOLLOW|O_DIRECTORY on a link fails with ENOTDIR (or ELOOP): tell
  // a link from a file that is no directory.
  struct stat st {};
  if ((err == ENOTDIR || err == ELOOP) &&
      ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    return PathError{ELOOP, shown + " is a symbolic link, which musterd does not follow"};
  return PathError{err, std::strerror(err)};
}

}  // namespace

PinnedDir PinnedDir::adopt(ipc::UniqueFd fd, std::string path) {
  PinnedDir dir;
  dir.fd_ = std::move(fd);
  dir.path_ = std::move(path);
  return dir;
}

std::variant<PinnedDir, PathError> PinnedDir::open(const std::string& path) {
  fs::path whole(path);
  fs::path at = whole.is_absolute() ? whole.root_path() : fs::path(".");
  PinnedDir dir;
  dir.path_ = path;
  const uid_t me = ::geteuid();
  auto pin = [&](int fd, const fs::path& shown) -> std::optional<PathError> {
    dir.fd_.reset(fd);
    struct stat st {};
    if (::fstat(fd, &st) < 0) return PathError{errno, std::strerror(errno)};
    if (!dir.changeable_) dir.changeable_ = config::changeable_by_others(shown.string(), st, me);
    return std::nullopt;
  };
  int first = ::open(at.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (first < 0) return PathError{errno, std::strerror(errno)};
  if (auto error = pin(first, at)) return *error;
  for (const fs::path& part : whole.relative_path()) {
    if (part.empty() || part == ".") continue;  // a trailing '/' gives an empty part
    at /= part;
    int next = ::openat(dir.fd(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return error_at(dir.fd(), part.string(), at.string());
    if (auto error = pin(next, at)) return *error;
  }
  return dir;
}

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
