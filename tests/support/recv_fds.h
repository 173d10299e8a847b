// One non-blocking recvmsg on a unix stream socket, with the file descriptors
// passed along (SCM_RIGHTS), owned: for the unit tests and fuzz harnesses that
// play a worker's end of the Node channel.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "ipc/passed_fds.h"
#include "ipc/unique_fd.h"

namespace muster::testing {

struct Received {
  ssize_t n = -1;                  // recvmsg's result: -1 (e.g. EAGAIN), 0 at EOF
  std::string bytes;               // what was read
  std::vector<ipc::UniqueFd> fds;  // every descriptor that came with it
};

template <std::size_t kMaxBytes = 65536, std::size_t kMaxFds = 8>
Received recv_fds(int sock) {
  Received r;
  char buffer[kMaxBytes];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  iovec iov{buffer, sizeof buffer};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  r.n = ::recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (r.n < 0) return r;
  ipc::take_passed_fds(msg, [&r](ipc::UniqueFd fd) { r.fds.push_back(std::move(fd)); });
  r.bytes.assign(buffer, static_cast<std::size_t>(r.n));
  return r;
}

}  // namespace muster::testing
