#include "daemon/control/control_server.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cerrno>
#include <cstring>

#include "daemon/common/memory_reserve.h"
#include "daemon/control/control_session.h"

namespace muster::daemon {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;

ControlServer::ControlServer(asio::io_context& io, const config::DaemonConfig& config,
                             Handler handler)
    : io_(io),
      config_(config),
      handler_(std::move(handler)),
      acceptor_(io),
      pause_(io, Listener::control, "control socket", [this] { accept(); }) {}

ControlServer::~ControlServer() { close(); }

Result<void> ControlServer::use_control_group() {
  if (config_.control_group.empty()) return {};
  struct group* gr = ::getgrnam(config_.control_group.c_str());
  if (!gr) return Error{"control_group: no group named '" + config_.control_group + "'"};
  group_ = gr->gr_gid;
  members_.emplace(gr->gr_gid);
  return {};
}

Result<void> ControlServer::open() {
  if (auto group = use_control_group(); !group) return group;
  unsigned mode = config_.control_mode & 0777;
  if (group_) mode |= 0060;  // the group's members are who it is for
  auto bound = ControlSocketFile::bind(config_, mode, group_);
  if (!bound) return bound.error();
  file_.emplace(std::move(bound).value());
  ipc::UniqueFd fd = file_->take_socket();
  // Owner, group and mode are final before listen(): until then nobody can
  // connect, so there is no moment it is reachable with other permissions.
  if (::listen(fd.get(), 64) < 0) {
    Error err{"cannot listen on " + config_.control_socket + ": " + std::strerror(errno), errno};
    file_->remove();
    return err;
  }
  acceptor_.assign(local(), fd.release());
  spdlog::info("control socket {} (mode {:04o})", config_.control_socket, mode);
  accept();
  return {};
}

int ControlServer::hand_over() {
  if (!acceptor_.is_open()) return -1;
  pause_.cancel();
  int fd = acceptor_.release();
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (auto& s : sessions) s->close();
  file_.reset();  // its file is the socket's still
  return fd;
}

Result<void> ControlServer::adopt(int fd) {
  if (auto group = use_control_group(); !group) return group;
  boost::system::error_code ec;
  acceptor_.assign(local(), fd, ec);
  if (ec) return Error{"control socket: " + ec.message(), ec.value()};
  accept();
  return {};
}

void ControlServer::end_streams() {
  for (const auto& s : sessions_) s->end_stream();
}

bool ControlServer::has_streams() const {
  for (const auto& s : sessions_)
    if (s->streaming()) return true;
  return false;
}

void ControlServer::close() {
  if (!acceptor_.is_open()) return;
  pause_.cancel();
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (auto& s : sessions) s->close();
  if (file_) file_->remove();
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
  ucred cred{};
  socklen_t len = sizeof cred;
  bool known = ::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0;
  auto session = std::make_shared<ControlSession>(std::move(socket), *this, handler_);
  if (known) session->set_peer_uid(cred.uid);
  sessions_.insert(session);
  if (allowed) {
    session->start();
  } else {
    spdlog::warn("control: refused {}", who);
    session->refuse(
        ipc::error_reply("permission denied: " + who + " may not control this musterd"));
  }
}

bool ControlServer::peer_allowed(int fd, std::string& who) {
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
  // Supplementary groups of the peer's user, from the databases (remembered).
  return members_ && members_->contains(cred.uid, GroupMembers::Clock::now());
}

}  // namespace muster::daemon
