#include "daemon/network/notify_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cerrno>
#include <cstring>

#include "ipc/passed_fds.h"

namespace muster::daemon {

NotifySocket::NotifySocket(boost::asio::io_context& io, Handler handler)
    : socket_(io), handler_(std::move(handler)) {}

namespace {

// Its name in the abstract namespace: musterd's pid's, the same after an
// in-place upgrade (same pid), so the workers' NOTIFY_SOCKET stays right.
std::string notify_name() { return "muster-" + std::to_string(::getpid()) + "-notify"; }

}  // namespace

Result<void> NotifySocket::open() {
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Error{std::string("notify socket: ") + std::strerror(errno), errno};
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
  std::string name = notify_name();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, name.data(), name.size());  // sun_path[0] = 0: abstract
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) < 0) {
    Error err{std::string("cannot bind notify socket: ") + std::strerror(errno), errno};
    ::close(fd);
    return err;
  }
  return adopt(fd);
}

int NotifySocket::hand_over() {
  if (!socket_.is_open()) return -1;
  return socket_.release();
}

Result<void> NotifySocket::adopt(int fd) {
  boost::system::error_code ec;
  socket_.assign(fd, ec);
  if (ec) return Error{"notify socket: " + ec.message(), ec.value()};
  address_ = "@" + notify_name();
  wait();
  return {};
}

void NotifySocket::wait() {
  socket_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [this](boost::system::error_code ec) {
                       if (ec) return;
                       receive();
                       wait();
                     });
}

void NotifySocket::receive() {
  for (int i = 0; i < 64; ++i) {  // drain a burst, then let others run
    iovec iov{buffer_.data(), buffer_.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * 16)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n =
        ::recvmsg(socket_.native_handle(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
    if (n < 0) return;
    std::optional<pid_t> sender;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET) continue;
      if (c->cmsg_type == SCM_CREDENTIALS) {
        ucred cred;
        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
        sender = cred.pid;
      } else {
        // FDSTORE= from a worker: not supported; what came is closed.
        ipc::take_passed_fds(c, [](ipc::UniqueFd) {});
      }
    }
    if (!sender || static_cast<std::size_t>(n) > buffer_.size() || (msg.msg_flags & MSG_TRUNC)) {
      spdlog::debug("notify: dropped a datagram (oversized or without credentials)");
      continue;
    }
    handler_(*sender, ipc::parse_notify({buffer_.data(), static_cast<std::size_t>(n)}));
  }
}

}  // namespace muster::daemon
