#include "daemon/control/control_socket_file.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/dir_trust.h"
#include "config/socket_dir.h"

namespace muster::daemon {
namespace {

std::string errno_text() { return std::strerror(errno); }

// With control_group, the group's members must be able to reach the socket
// in musterd's own directory (a directory made 0700 before the group was set).
std::optional<std::string> let_group_search(const PinnedDir& dir, const std::string& shown) {
  struct stat st {};
  if (::fstat(dir.fd(), &st) < 0) return "cannot examine " + shown + ": " + errno_text();
  if ((st.st_mode & 0011) == 0011) return std::nullopt;
  if (dir.chmod((st.st_mode & 07777) | 0011) < 0)
    return "cannot let control_group search " + shown + ": " + errno_text();
  return std::nullopt;
}

// What is at the socket's name and kept musterd from binding there.
std::string refusal(const SocketFile::InTheWay& in_the_way, const std::string& path) {
  using What = SocketFile::InTheWay::What;
  const std::string owner = config::describe_uid(in_the_way.owner);
  switch (in_the_way.what) {
    case What::unexamined:
      return "cannot examine " + path + ": " + std::strerror(in_the_way.errno_value);
    case What::not_a_socket: return path + " exists and is not a socket; not touching it";
    case What::live_socket:
      return in_the_way.owner == ::geteuid()
                 ? "another musterd is already running on " + path
                 : path + " belongs to " + owner + " and something answers on it; not touching it";
    case What::anothers_socket:
      return "the stale socket " + path + " belongs to " + owner +
             ", not to musterd's user; not removing it (remove it if nobody needs it)";
    case What::unremovable:
      return "cannot remove stale " + path + ": " + std::strerror(in_the_way.errno_value);
  }
  return path + " is in the way";
}

}  // namespace

Result<ControlSocketFile> ControlSocketFile::bind(const config::DaemonConfig& config, unsigned mode,
                                                  std::optional<gid_t> group) {
  const std::string& path = config.control_socket;
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash + 1 == path.size())
    return Error{"the control socket must be an absolute path to a file: " + path};
  const std::string dir = slash == 0 ? "/" : path.substr(0, slash);

  const bool own = config.control_socket_default;
  auto opened = config::open_socket_dir(
      dir, own ? config::SocketDirRule::private_to_owner : config::SocketDirRule::configured,
      own ? (group ? 0711 : 0700) : 0755);
  if (!opened) return opened.error().prefixed("refusing the control socket " + path + ": ");
  PinnedDir& pinned = *opened;
  if (own && group)
    if (auto err = let_group_search(pinned, dir)) return Error{*err};
  SocketFile file(std::move(pinned), path.substr(slash + 1), path,
                  SocketFile::Address::name_in_dir);
  if (auto in_the_way = file.clear_stale(/*only_ours=*/true))
    return Error{refusal(*in_the_way, path), in_the_way->errno_value};

  ipc::UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!socket) return Error{"cannot create the control socket: " + errno_text(), errno};
  if (auto bound = file.bind(socket.get(), mode, static_cast<uid_t>(-1),
                             group ? *group : static_cast<gid_t>(-1));
      !bound)
    return Error{"cannot bind the control socket " + path + ": " + bound.error().message};
  // A default ACL on the directory would override the umask.
  if (file.mode() != mode) {
    file.remove();
    return Error{"the control socket " + path + " got mode " + config::octal_mode(file.mode()) +
                 ", not " + config::octal_mode(mode) + " (a default ACL on its directory?)"};
  }
  return ControlSocketFile(std::move(socket), std::move(file));
}

}  // namespace muster::daemon
