#include "daemon/socket_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <spdlog/spdlog.h>

#include "config/dir_trust.h"
#include "ipc/unique_fd.h"

namespace muster::daemon {
namespace fs = std::filesystem;

bool unix_listener_alive(const sockaddr_storage& addr, socklen_t len) {
  // Non-blocking: a live listener with a full backlog must not hang us; only
  // ECONNREFUSED means nobody listens (the file is stale).
  ipc::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!probe) return true;
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), len) == 0) return true;
  return errno != ECONNREFUSED && errno != ENOENT;
}

namespace {

PathError last_error(const std::string& step = "") {
  int err = errno;
  return PathError{err, step + std::strerror(err)};
}

sockaddr_storage unix_address(const std::string& path) {
  sockaddr_storage storage{};
  auto* un = reinterpret_cast<sockaddr_un*>(&storage);
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.c_str(), std::min(path.size() + 1, sizeof un->sun_path));
  return storage;
}

}  // namespace

std::variant<SocketFile, PathError> SocketFile::bind(int fd, const std::string& path,
                                                     mode_t mode, uid_t uid, gid_t gid) {
  if (path.size() >= sizeof(sockaddr_un::sun_path)) return PathError{ENAMETOOLONG, std::strerror(ENAMETOOLONG)};
  SocketFile file;
  file.path_ = path;
  file.name_ = fs::path(path).filename().string();
  // bind() takes the whole path: as root, no directory on the way may be one
  // another user could change.
  config::WalkRules rules;
  if (::geteuid() == 0)
    rules.judge = [](const std::string& shown, const struct stat& st) {
      return config::changeable_by_others(shown, st, 0);
    };
  auto pinned = PinnedDir::open(fs::path(path).parent_path().string(), rules);
  if (auto* error = std::get_if<PathError>(&pinned)) {
    if (error->kind == PathError::Kind::judged)
      error->message = "musterd, running as root, binds only where no other user can swap a "
                       "directory on the way: " + error->message;
    return *error;
  }
  file.dir_ = std::move(std::get<PinnedDir>(pinned));
  if (auto error = file.clear_stale()) return *error;

  // The mode comes from the umask at bind: no moment with a looser one, and
  // no chmod by a name that could be swapped between bind and the call.
  sockaddr_storage addr = unix_address(path);
  mode_t old_mask = ::umask(0777 & ~mode);
  int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(sockaddr_un));
  int err = errno;
  ::umask(old_mask);
  if (rc < 0) return PathError{err, std::strerror(err)};

  // The inode bind created, found in the pinned directory (no other user can
  // change one on the way, so bind's path led there too), and the owner set
  // on that inode through its own descriptor, not by name.
  ipc::UniqueFd node(::openat(file.dir_.fd(), file.name_.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (!node || ::fstat(node.get(), &st) < 0) return last_error("cannot find the socket file: ");
  if (!S_ISSOCK(st.st_mode))
    return PathError{EEXIST, "the file at the path is not the socket just bound there"};
  file.id_ = file_id(st);
  bool chown = uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1);
  if (chown && ::fchownat(node.get(), "", uid, gid, AT_EMPTY_PATH) < 0) {
    PathError error = last_error("chown: ");
    file.remove();
    return error;
  }
  if (chown && ::fstat(node.get(), &st) == 0) file.id_ = file_id(st);  // a new change time
  return file;
}

std::variant<SocketFile, PathError> SocketFile::adopt(ipc::UniqueFd dir, const std::string& path,
                                                      dev_t dev, ino_t ino) {
  SocketFile file;
  file.path_ = path;
  file.name_ = fs::path(path).filename().string();
  file.dir_ = PinnedDir::adopt(std::move(dir), fs::path(path).parent_path().string());
  struct stat st {};
  if (::fstatat(file.dir_.fd(), file.name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return last_error("cannot find the socket file: ");
  if (!S_ISSOCK(st.st_mode) || st.st_dev != dev || st.st_ino != ino)
    return PathError{EEXIST, "the file at the path is not the socket just bound there"};
  file.id_ = file_id(st);
  return file;
}

// A leftover file nobody listens on is stale; a live listener is not ours,
// and a file that is no socket is not for musterd to touch.
std::optional<PathError> SocketFile::clear_stale() const {
  struct stat st {};
  if (::fstatat(dir_.fd(), name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? std::nullopt : std::optional(last_error());
  if (!S_ISSOCK(st.st_mode))
    return PathError{EADDRINUSE, "a file that is not a socket is in the way (left alone)"};
  sockaddr_storage addr = unix_address(path_);
  if (unix_listener_alive(addr, sizeof(sockaddr_un)))
    return PathError{EADDRINUSE, std::strerror(EADDRINUSE)};
  if (!unlink_if_same(dir_.fd(), name_, file_id(st)) && errno != ENOENT)
    return last_error("cannot remove the stale socket file: ");
  spdlog::info("removed the stale socket file {}", path_);
  return std::nullopt;
}

bool SocketFile::remove() const {
  if (!dir_) return false;
  if (unlink_if_same(dir_.fd(), name_, id_)) return true;
  if (errno == EEXIST)
    spdlog::warn("{} is no longer the socket musterd bound there; left alone", path_);
  return false;
}

}  // namespace muster::daemon
