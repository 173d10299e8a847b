// muster/worker_socket.hpp: the socket calls under the worker library
// (muster/worker.hpp): finding the channel, its reads and writes, and what a
// listen asks for. Included by muster/worker.hpp; include that one.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <utility>

#include "worker_types.hpp"

namespace muster::detail {

// The channel's fd and the worker's id from NODE_CHANNEL_FD and
// NODE_UNIQUE_ID, as musterd (or a Node primary) sets them; removed from the
// environment as Node does, so that this worker's children do not think they
// are workers too.
inline Expected<std::pair<int, int>> channel_from_env() {
  const char* fd = std::getenv("NODE_CHANNEL_FD");
  const char* id = std::getenv("NODE_UNIQUE_ID");
  const char* mode = std::getenv("NODE_CHANNEL_SERIALIZATION_MODE");
  if (!fd || !id)
    return Error{0,
                 "not running under musterd (or a Node cluster primary): NODE_CHANNEL_FD and "
                 "NODE_UNIQUE_ID are not set"};
  if (mode && *mode && std::string_view(mode) != "json")
    return Error{
        0, std::string("unsupported NODE_CHANNEL_SERIALIZATION_MODE '") + mode + "' (only 'json')"};
  char* end = nullptr;
  long n = std::strtol(fd, &end, 10);
  if (*fd == '\0' || *end != '\0' || n < 0 || fcntl(static_cast<int>(n), F_GETFD) < 0)
    return Error{0, std::string("NODE_CHANNEL_FD is not an open fd: '") + fd + "'"};
  int worker_id = std::atoi(id);
  unsetenv("NODE_CHANNEL_FD");
  unsetenv("NODE_UNIQUE_ID");
  unsetenv("NODE_CHANNEL_SERIALIZATION_MODE");
  return std::pair<int, int>(static_cast<int>(n), worker_id);
}

// The port `fd` is bound to, or `fallback` if it is not an IP socket.
inline int local_port(int fd, int fallback) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) < 0) return fallback;
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
  return fallback;
}

// Writes all of `line` to the (non-blocking) channel `fd`, waiting while it is full.
inline bool write_all(int fd, const std::string& line) {
  size_t off = 0;
  while (fd >= 0 && off < line.size()) {
    ssize_t n = ::send(fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n >= 0) {
      off += static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, -1);
    } else if (errno != EINTR) {
      return false;  // EPIPE and the like: the read side will see the channel go
    }
  }
  return fd >= 0;
}

// One read of the channel `fd`: bytes onto `in`, passed fds onto `fds`. recvmsg's
// result (errno set when negative).
inline ssize_t receive(int fd, std::string& in, std::deque<int>& fds) {
  char buf[16384];
  iovec iov{buf, sizeof buf};
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * 16)];
  msghdr mh{};
  mh.msg_iov = &iov, mh.msg_iovlen = 1, mh.msg_control = cbuf, mh.msg_controllen = sizeof cbuf;
  ssize_t n;
  do n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n > 0) in.append(buf, static_cast<size_t>(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); n >= 0 && c; c = CMSG_NXTHDR(&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      for (size_t k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++k) {
        int got;
        std::memcpy(&got, CMSG_DATA(c) + k * sizeof(int), sizeof got);
        fds.push_back(got);  // the next NODE_HANDLE line takes it (Node: pendingHandle)
      }
  return n;
}

// Fills in what Node's listen() infers: the address type, and for a unix socket
// port -1 and an absolute path.
inline void complete_listen_request(ListenRequest& r) {
  if (r.address_type == 0)
    r.address_type = r.port < 0 || r.address.find('/') != std::string::npos ? -1
                     : r.address.find(':') != std::string::npos             ? 6
                                                                            : 4;
  if (r.address_type == -1) {
    r.port = -1;
    if (!r.address.empty() && r.address[0] != '/') {  // Node's path.resolve()
      char cwd[4096];
      if (getcwd(cwd, sizeof cwd)) r.address = std::string(cwd) + "/" + r.address;
    }
  }
}

}  // namespace muster::detail
