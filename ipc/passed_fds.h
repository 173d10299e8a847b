// Descriptors passed over a unix socket (SCM_RIGHTS): sending one along with
// some bytes, and owning what a recvmsg received.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstring>

#include "ipc/unique_fd.h"

namespace muster::ipc {

// One sendmsg of `size` bytes from `data`, with `fd` riding on the first of
// them (fd < 0: none). Returns what sendmsg returns.
inline ssize_t send_with_fd(int sock, const char* data, std::size_t size, int fd, int flags) {
  iovec iov{const_cast<char*>(data), size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  return ::sendmsg(sock, &msg, flags);
}

// Hands every descriptor of one control message (if it is SCM_RIGHTS) to
// take(UniqueFd); one that `take` drops is closed.
template <typename Take>
void take_passed_fds(cmsghdr* c, Take&& take) {
  if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return;
  std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
  for (std::size_t i = 0; i < count; ++i) {
    int fd;
    std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
    take(UniqueFd(fd));
  }
}

// The same for every control message of `msg`.
template <typename Take>
void take_passed_fds(msghdr& msg, Take&& take) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) take_passed_fds(c, take);
}

}  // namespace muster::ipc
