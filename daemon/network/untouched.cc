// Its own file: <linux/tcp.h> (the kernel's tcp_info, with the byte counters
// glibc's copy lacks) cannot share a translation unit with <netinet/tcp.h>,
// which Asio pulls in.
#include "daemon/network/untouched.h"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace muster::daemon {
namespace {
// The kernel's TCP_CLOSE_WAIT (include/net/tcp_states.h; glibc has it only in
// <netinet/tcp.h>, which cannot be included next to <linux/tcp.h>).
constexpr unsigned kTcpCloseWait = 8;
}  // namespace

bool connection_untouched(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0 ||
      len < offsetof(tcp_info, tcpi_bytes_sent) + sizeof info.tcpi_bytes_sent)
    return false;
  int unread = 0;
  if (::ioctl(fd, SIOCINQ, &unread) < 0) return false;
  // bytes_received counts the client's FIN too; SIOCINQ does not.
  std::uint64_t fin = info.tcpi_state == kTcpCloseWait ? 1 : 0;
  return info.tcpi_bytes_sent == 0 &&
         info.tcpi_bytes_received == static_cast<std::uint64_t>(unread) + fin;
}

}  // namespace muster::daemon
