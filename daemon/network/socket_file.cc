#include "daemon/network/socket_file.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "config/dir_trust.h"
#include "ipc/unique_fd.h"

namespace muster::daemon {
namespace fs = std::filesystem;

namespace {

PathError last_error(const std::string& step = "") {
  int err = errno;
  return PathError{err, step + std::strerror(err)};
}

// What clear_stale left in the way, worded for [sockets.NAME] and Node's
// listen() (EADDRINUSE, as for a port in use).
PathError refusal(const SocketFile::InTheWay& in_the_way) {
  using What = SocketFile::InTheWay::What;
  const int err = in_the_way.errno_value;
  switch (in_the_way.what) {
    case What::unexamined: return PathError{err, std::strerror(err)};
    case What::not_a_socket:
      return PathError{EADDRINUSE, "a file that is not a socket is in the way (left alone)"};
    case What::live_socket:
    case What::anothers_socket: return PathError{EADDRINUSE, std::strerror(EADDRINUSE)};
    case What::unremovable:
      return PathError{err,
                       std::string("cannot remove the stale socket file: ") + std::strerror(err)};
  }
  return PathError{EADDRINUSE, std::strerror(EADDRINUSE)};
}

}  // namespace

SocketFile::SocketFile(PinnedDir dir, std::string name, std::string path, Address address)
    : dir_(std::move(dir)), name_(std::move(name)), path_(std::move(path)), address_(address) {}

Result<SocketFile, PathError> SocketFile::bind(int fd, const std::string& path, mode_t mode,
                                               uid_t uid, gid_t gid) {
  if (path.size() >= sizeof(sockaddr_un::sun_path))
    return PathError{ENAMETOOLONG, std::strerror(ENAMETOOLONG)};
  // bind() takes the whole path: as root, no directory on the way may be one
  // another user could change.
  config::WalkRules rules;
  if (::geteuid() == 0)
    rules.judge = [](const std::string& shown, const struct stat& st) {
      return config::changeable_by_others(shown, st, 0);
    };
  auto pinned = PinnedDir::open(fs::path(path).parent_path().string(), rules);
  if (!pinned) {
    PathError error = pinned.error();
    if (error.kind == PathError::Kind::judged)
      error.message =
          "musterd, running as root, binds only where no other user can swap a "
          "directory on the way: " +
          error.message;
    return error;
  }
  SocketFile file(std::move(pinned).value(), fs::path(path).filename().string(), path,
                  Address::path);
  if (auto in_the_way = file.clear_stale(false)) return refusal(*in_the_way);
  if (auto bound = file.bind(fd, mode, uid, gid); !bound) return bound.error();
  return file;
}

Result<SocketFile, PathError> SocketFile::adopt(ipc::UniqueFd dir, const std::string& path,
                                                dev_t dev, ino_t ino) {
  SocketFile file(PinnedDir::adopt(std::move(dir), fs::path(path).parent_path().string()),
                  fs::path(path).filename().string(), path, Address::path);
  struct stat st {};
  if (::fstatat(file.dir_.fd(), file.name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return last_error("cannot find the socket file: ");
  if (!S_ISSOCK(st.st_mode) || st.st_dev != dev || st.st_ino != ino)
    return PathError{EEXIST, "the file at the path is not the socket just bound there"};
  file.id_ = file_id(st);
  file.mode_ = st.st_mode & 0777;
  return file;
}

// Runs `call` (a bind or connect) with the socket's address, as address_
// says: for name_in_dir with the working directory in the pinned directory,
// then back. bind() and connect() take only a path, and a name in the pinned
// directory is one nobody can redirect; musterd is single-threaded, so
// nothing else resolves a relative path meanwhile.
template <class Call>
int SocketFile::at_address(Call call) const {
  const std::string& target = address_ == Address::path ? path_ : name_;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (target.size() >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(addr.sun_path, target.c_str(), target.size() + 1);
  const auto* address = reinterpret_cast<const sockaddr*>(&addr);
  if (address_ == Address::path) return call(address, sizeof addr);
  ipc::UniqueFd here(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!here || ::fchdir(dir_.fd()) < 0) return -1;
  int rc = call(address, sizeof addr);
  int err = errno;
  if (::fchdir(here.get()) < 0) spdlog::warn("cannot return to the working directory");
  errno = err;
  return rc;
}

// A leftover file nobody listens on is stale; a live listener is not ours,
// and a file that is no socket is not for musterd to touch.
std::optional<SocketFile::InTheWay> SocketFile::clear_stale(bool only_ours) const {
  using What = InTheWay::What;
  struct stat st {};
  if (::fstatat(dir_.fd(), name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return std::nullopt;
    return InTheWay{What::unexamined, errno};
  }
  if (!S_ISSOCK(st.st_mode)) return InTheWay{What::not_a_socket, 0, st.st_uid};
  // Non-blocking: a live listener with a full backlog must not hang us; only
  // ECONNREFUSED means nobody listens (the file is stale).
  ipc::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  const bool alive = !probe || at_address([&](const sockaddr* address, socklen_t len) {
    return ::connect(probe.get(), address, len) == 0 || (errno != ECONNREFUSED && errno != ENOENT);
  });
  if (alive) return InTheWay{What::live_socket, 0, st.st_uid};
  if (only_ours && st.st_uid != ::geteuid()) return InTheWay{What::anothers_socket, 0, st.st_uid};
  if (!unlink_if_same(dir_.fd(), name_, file_id(st)) && errno != ENOENT)
    return InTheWay{What::unremovable, errno, st.st_uid};
  spdlog::info("removed the stale socket file {}", path_);
  return std::nullopt;
}

Result<void, PathError> SocketFile::bind(int fd, mode_t mode, uid_t uid, gid_t gid) {
  // The mode comes from the umask at bind: no moment with a looser one, and
  // no chmod by a name that could be swapped between bind and the call.
  mode_t old_mask = ::umask(0777 & ~mode);
  int rc =
      at_address([&](const sockaddr* address, socklen_t len) { return ::bind(fd, address, len); });
  int err = errno;
  ::umask(old_mask);
  if (rc < 0) return PathError{err, std::strerror(err)};

  // The inode bind created, found in the pinned directory (for a whole path,
  // no other user can change a directory on the way, so bind's path led
  // there too), and the owner set on that inode through its own descriptor,
  // not by name.
  ipc::UniqueFd node(::openat(dir_.fd(), name_.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (!node || ::fstat(node.get(), &st) < 0) return last_error("cannot find the socket file: ");
  if (!S_ISSOCK(st.st_mode) || st.st_uid != ::geteuid())
    return PathError{EEXIST, "the file at the path is not the socket just bound there"};
  id_ = file_id(st);
  mode_ = st.st_mode & 0777;
  bool chown = uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1);
  if (chown && ::fchownat(node.get(), "", uid, gid, AT_EMPTY_PATH) < 0) {
    PathError error = last_error("chown: ");
    remove();
    return error;
  }
  if (chown && ::fstat(node.get(), &st) == 0) id_ = file_id(st);  // a new change time
  return {};
}

bool SocketFile::remove() {
  if (!dir_) return false;
  const PinnedDir dir = std::move(dir_);
  if (unlink_if_same(dir.fd(), name_, id_)) return true;
  if (errno == EEXIST)
    spdlog::warn("{} is no longer the socket musterd bound there; left alone", path_);
  return false;
}

}  // namespace muster::daemon
