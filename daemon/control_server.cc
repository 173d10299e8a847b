#include "daemon/control_server.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <spdlog/spdlog.h>

#include "daemon/control_session.h"
#include "daemon/listen_socket.h"
#include "daemon/memory_reserve.h"

namespace muster::daemon {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

std::string errno_text() { return std::strerror(errno); }

// Fills a sockaddr_un; false if the path does not fit.
bool make_address(const std::string& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  return true;
}

// An existing socket file is either a live daemon's (refuse to start) or
// stale (remove it). Anything that is not a socket is left alone.
std::optional<std::string> clear_stale(const std::string& path, const sockaddr_un& addr) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return std::nullopt;
    return "cannot stat " + path + ": " + errno_text();
  }
  if (!S_ISSOCK(st.st_mode)) return path + " exists and is not a socket; not touching it";
  sockaddr_storage storage{};
  std::memcpy(&storage, &addr, sizeof addr);
  if (unix_listener_alive(storage, sizeof addr))
    return "another musterd is already running on " + path;
  spdlog::info("removing stale control socket {}", path);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT)
    return "cannot remove stale " + path + ": " + errno_text();
  return std::nullopt;
}

}  // namespace

ControlServer::ControlServer(asio::io_context& io, const config::DaemonConfig& config,
                             Handler handler)
    : io_(io), config_(config), handler_(std::move(handler)), acceptor_(io),
      pause_(io, Listener::control, "control socket", [this] { accept(); }) {}

ControlServer::~ControlServer() { close(); }

std::optional<std::string> ControlServer::open() {
  const std::string& path = config_.control_socket;
  sockaddr_un addr;
  if (!make_address(path, addr)) return "control socket path too long: " + path;
  unsigned mode = config_.control_mode & 0777;
  if (!config_.control_group.empty()) {
    struct group* gr = ::getgrnam(config_.control_group.c_str());
    if (!gr) return "control_group: no group named '" + config_.control_group + "'";
    group_ = gr->gr_gid;
    mode |= 0060;  // the group's members are who it is for
  }
  if (auto err = clear_stale(path, addr)) return err;
  std::error_code fs_ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), fs_ec);

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return "socket: " + errno_text();
  // Bind under a umask that already yields the final mode, then fix owner and
  // mode before listen(): until listen() nobody can connect, so there is no
  // window in which the socket is reachable with the wrong permissions.
  mode_t old_mask = ::umask(0777 & ~mode);
  int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::umask(old_mask);
  if (rc < 0) {
    ::close(fd);
    return "cannot bind control socket " + path + ": " + std::strerror(err);
  }
  auto fail = [&](const std::string& what) {
    std::string msg = what + " " + path + ": " + errno_text();
    ::close(fd);
    ::unlink(path.c_str());
    return msg;
  };
  if (group_ && ::chown(path.c_str(), static_cast<uid_t>(-1), *group_) < 0) return fail("chown");
  if (::chmod(path.c_str(), mode) < 0) return fail("chmod");
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) return fail("stat");
  inode_ = st.st_ino;
  if (::listen(fd, 64) < 0) return fail("listen on");
  acceptor_.assign(local(), fd);
  spdlog::info("control socket {} (mode {:04o})", path, mode);
  accept();
  return std::nullopt;
}

void ControlServer::close() {
  if (!acceptor_.is_open()) return;
  pause_.cancel();
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (auto& s : sessions) s->close();
  struct stat st {};
  if (::stat(config_.control_socket.c_str(), &st) == 0 && st.st_ino == inode_)
    ::unlink(config_.control_socket.c_str());
}

void ControlServer::forget(ControlSession* session) {
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->get() == session) {
      sessions_.erase(it);
      return;
    }
  }
}

void ControlServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, local::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of fds (or kernel memory): pause instead of spinning, and tell
      // the longest-waiting client why it is refused.
      static const std::string farewell = ipc::error_reply(
          "musterd cannot accept this connection: it is out of file descriptors; "
          "try again later");
      if (!pause_.failed(ec.value(), acceptor_.native_handle(), farewell)) accept();
      return;
    }
    pause_.accepted();
    try {
      start_session(std::move(socket));
    } catch (const std::exception& e) {
      memory_reserve::release_if_out_of_memory(e);
      // Out of memory, say: this client is dropped (its socket closes with
      // the session), the control socket keeps serving.
      spdlog::error("control: cannot take a new connection: {}", e.what());
    }
    accept();
  });
}

void ControlServer::start_session(local::socket socket) {
  // Asio's accept() does not set close-on-exec; workers must not inherit it.
  ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
  std::string who;
  bool allowed = peer_allowed(socket.native_handle(), who);
  auto session = std::make_shared<ControlSession>(std::move(socket), *this, handler_);
  sessions_.insert(session);
  if (allowed) {
    session->start();
  } else {
    spdlog::warn("control: refused {}", who);
    session->refuse(ipc::error_reply("permission denied: " + who +
                                     " may not control this musterd"));
  }
}

bool ControlServer::peer_allowed(int fd, std::string& who) const {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
    who = "a peer whose credentials cannot be read";
    return false;
  }
  who = "uid " + std::to_string(cred.uid);
  if (cred.uid == 0 || cred.uid == ::geteuid()) return true;
  if (!group_) return false;
  if (cred.gid == *group_) return true;
  // Supplementary groups of the peer's user.
  struct passwd* pw = ::getpwuid(cred.uid);
  if (!pw) return false;
  int count = 64;
  std::vector<gid_t> groups(count);
  while (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count) < 0) groups.resize(count);
  groups.resize(count);
  return std::find(groups.begin(), groups.end(), *group_) != groups.end();
}

}  // namespace muster::daemon
