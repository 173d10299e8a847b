// The descriptors a recvmsg received with SCM_RIGHTS, owned from here on.
#pragma once

#include <sys/socket.h>

#include <cstring>

#include "ipc/unique_fd.h"

namespace muster::ipc {

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
