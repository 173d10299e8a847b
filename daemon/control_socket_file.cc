#include "daemon/control_socket_file.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>

#include "config/dir_trust.h"
#include "config/socket_dir.h"
#include "daemon/listen_socket.h"

namespace muster::daemon {
namespace {

std::string errno_text() { return std::strerror(errno); }

std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

// The address of `name` relative to the working directory (see in_directory).
sockaddr_storage relative_address(const std::string& name, socklen_t& len) {
  sockaddr_storage storage{};
  auto* addr = reinterpret_cast<sockaddr_un*>(&storage);
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path, name.data(), std::min(name.size(), sizeof addr->sun_path - 1));
  len = sizeof(sockaddr_un);
  return storage;
}

// Runs `fn` (a bind or connect of a relative name) with the working directory
// at `dir`, then goes back: bind() and connect() take only a path, and a name
// in the pinned directory is one nobody can redirect. musterd is
// single-threaded, so nothing else resolves a relative path meanwhile.
template <class Fn>
int in_directory(int dir, Fn fn) {
  ipc::UniqueFd here(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!here || ::fchdir(dir) < 0) return -1;
  int rc = fn();
  int err = errno;
  if (::fchdir(here.get()) < 0) spdlog::warn("cannot return to the working directory");
  errno = err;
  return rc;
}

// With control_group, the group's members must be able to reach the socket
// in musterd's own directory (a directory made 0700 before the group was set).
std::optional<std::string> let_group_search(const config::PinnedDir& dir, const std::string& shown) {
  struct stat st {};
  if (::fstat(dir.fd(), &st) < 0) return "cannot examine " + shown + ": " + errno_text();
  if ((st.st_mode & 0011) == 0011) return std::nullopt;
  if (dir.chmod((st.st_mode & 07777) | 0011) < 0)
    return "cannot let control_group search " + shown + ": " + errno_text();
  return std::nullopt;
}

}  // namespace

std::variant<ControlSocketFile, std::string> ControlSocketFile::bind(
    const config::DaemonConfig& config, unsigned mode, std::optional<gid_t> group) {
  ControlSocketFile file;
  file.path_ = config.control_socket;
  const std::size_t slash = file.path_.rfind('/');
  if (slash == std::string::npos || slash + 1 == file.path_.size())
    return "the control socket must be an absolute path to a file: " + file.path_;
  file.name_ = file.path_.substr(slash + 1);
  const std::string dir = slash == 0 ? "/" : file.path_.substr(0, slash);

  const bool own = config.control_socket_default;
  auto opened = config::open_socket_dir(
      dir, own ? config::SocketDirRule::private_to_owner : config::SocketDirRule::configured,
      own ? (group ? 0711 : 0700) : 0755);
  if (auto* problem = std::get_if<std::string>(&opened))
    return "refusing the control socket " + file.path_ + ": " + *problem;
  file.dir_ = std::move(std::get<config::PinnedDir>(opened));
  if (own && group)
    if (auto err = let_group_search(file.dir_, dir)) return *err;
  if (auto err = file.clear_stale()) return *err;

  file.socket_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!file.socket_) return "cannot create the control socket: " + errno_text();
  socklen_t len = 0;
  sockaddr_storage addr = relative_address(file.name_, len);
  // The umask gives the socket its final mode as it is created: there is no
  // chmod by path afterwards, and no moment with a looser mode.
  mode_t old_mask = ::umask(0777 & ~mode);
  int rc = in_directory(file.dir_.fd(), [&] {
    return ::bind(file.socket_.get(), reinterpret_cast<const sockaddr*>(&addr), len);
  });
  int err = errno;
  ::umask(old_mask);
  if (rc < 0) return "cannot bind the control socket " + file.path_ + ": " + std::strerror(err);

  struct stat st {};
  if (::fstatat(file.dir_.fd(), file.name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 ||
      !S_ISSOCK(st.st_mode) || st.st_uid != ::geteuid())
    return file.path_ + " is not the socket musterd just bound there";
  file.dev_ = st.st_dev;
  file.ino_ = st.st_ino;
  if ((st.st_mode & 0777) != mode) {
    file.remove();
    return "the control socket " + file.path_ + " got mode " + octal(st.st_mode) + ", not " +
           octal(mode) + " (a default ACL on its directory?)";
  }
  if (group)
    if (auto problem = file.chown_group(*group)) {
      file.remove();
      return *problem;
    }
  return file;
}

std::optional<std::string> ControlSocketFile::clear_stale() {
  struct stat st {};
  if (::fstatat(dir_.fd(), name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return std::nullopt;
    return "cannot examine " + path_ + ": " + errno_text();
  }
  if (!S_ISSOCK(st.st_mode)) return path_ + " exists and is not a socket; not touching it";
  socklen_t len = 0;
  sockaddr_storage addr = relative_address(name_, len);
  const bool alive = in_directory(dir_.fd(), [&] { return unix_listener_alive(addr, len); });
  const bool ours = st.st_uid == ::geteuid();
  if (alive)
    return ours ? "another musterd is already running on " + path_
                : path_ + " belongs to " + config::describe_uid(st.st_uid) +
                      " and something answers on it; not touching it";
  if (!ours)
    return "the stale socket " + path_ + " belongs to " + config::describe_uid(st.st_uid) +
           ", not to musterd's user; not removing it (remove it if nobody needs it)";
  spdlog::info("removing stale control socket {}", path_);
  if (::unlinkat(dir_.fd(), name_.c_str(), 0) < 0 && errno != ENOENT)
    return "cannot remove stale " + path_ + ": " + errno_text();
  return std::nullopt;
}

std::optional<std::string> ControlSocketFile::chown_group(gid_t group) {
  // An fd of the file itself, checked to be the inode bound: the chown cannot
  // land on anything else, whatever happens to the name.
  ipc::UniqueFd file(::openat(dir_.fd(), name_.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (!file || ::fstat(file.get(), &st) < 0)
    return "cannot open the control socket " + path_ + ": " + errno_text();
  if (st.st_dev != dev_ || st.st_ino != ino_) return path_ + " was replaced after bind";
  if (::fchownat(file.get(), "", static_cast<uid_t>(-1), group, AT_EMPTY_PATH) < 0)
    return "cannot give the control socket " + path_ + " to control_group: " + errno_text();
  return std::nullopt;
}

void ControlSocketFile::remove() {
  if (!dir_) return;
  struct stat st {};
  if (::fstatat(dir_.fd(), name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      st.st_dev == dev_ && st.st_ino == ino_)
    ::unlinkat(dir_.fd(), name_.c_str(), 0);
  dir_ = config::PinnedDir();
}

}  // namespace muster::daemon
