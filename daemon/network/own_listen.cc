#include "daemon/network/own_listen.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <charconv>
#include <string>
#include <unordered_set>

#include "ipc/unique_fd.h"

namespace muster::daemon {

namespace {

constexpr int kTcpListen = 10;  // TCP_LISTEN in the kernel's state numbers

// The pid's socket inodes, from at most kMaxFds of its fds.
std::unordered_set<std::uint64_t> socket_inodes(pid_t pid) {
  std::unordered_set<std::uint64_t> out;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  std::size_t seen = 0;
  char link[64];
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (++seen > kMaxFds) break;
    ssize_t n = ::readlinkat(::dirfd(d), e->d_name, link, sizeof link);
    if (n <= 0 || n == static_cast<ssize_t>(sizeof link)) continue;
    if (auto inode = socket_inode(std::string_view(link, static_cast<std::size_t>(n))))
      out.insert(*inode);
  }
  ::closedir(d);
  return out;
}

// A sock_diag dump request for listening sockets of one family.
struct DumpRequest {
  nlmsghdr header;
  union {
    inet_diag_req_v2 inet;
    unix_diag_req unix_req;
  };
};

DumpRequest listening_request(int family) {
  DumpRequest r{};
  r.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  r.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  if (family == AF_UNIX) {
    r.header.nlmsg_len = NLMSG_LENGTH(sizeof(unix_diag_req));
    r.unix_req.sdiag_family = AF_UNIX;
    r.unix_req.udiag_states = 1u << kTcpListen;
  } else {
    r.header.nlmsg_len = NLMSG_LENGTH(sizeof(inet_diag_req_v2));
    r.inet.sdiag_family = static_cast<std::uint8_t>(family);
    r.inet.sdiag_protocol = IPPROTO_TCP;
    r.inet.idiag_states = 1u << kTcpListen;
  }
  return r;
}

// Is one of `inodes` a listening socket of `family`? Reads the dump to its
// end (or kMaxListening entries), a short timeout bounding every read.
bool any_listening(int family, const std::unordered_set<std::uint64_t>& inodes,
                   std::uint16_t except_port) {
  ipc::UniqueFd s(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (s.get() < 0) return false;
  timeval timeout{0, 100'000};
  ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  DumpRequest request = listening_request(family);
  if (::send(s.get(), &request, request.header.nlmsg_len, 0) < 0) return false;
  alignas(nlmsghdr) char buffer[16384];
  bool found = false;
  for (std::size_t entries = 0; entries < kMaxListening;) {
    ssize_t n = ::recv(s.get(), buffer, sizeof buffer, 0);
    if (n <= 0) return found;
    auto left = static_cast<unsigned>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) return found;
      ++entries;
      if (family == AF_UNIX) {
        found = found || inodes.contains(static_cast<unix_diag_msg*>(NLMSG_DATA(h))->udiag_ino);
        continue;
      }
      const auto* inet = static_cast<inet_diag_msg*>(NLMSG_DATA(h));
      bool excepted = except_port != 0 && ntohs(inet->id.idiag_sport) == except_port;
      found = found || (!excepted && inodes.contains(inet->idiag_inode));
    }
  }
  return found;
}

}  // namespace

std::optional<std::uint64_t> socket_inode(std::string_view link) {
  constexpr std::string_view prefix = "socket:[";
  if (!link.starts_with(prefix) || !link.ends_with(']')) return std::nullopt;
  std::string_view digits = link.substr(prefix.size(), link.size() - prefix.size() - 1);
  std::uint64_t inode = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), inode);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty())
    return std::nullopt;
  return inode;
}

bool listens_on_own_socket(pid_t pid, std::uint16_t except_port) {
  auto inodes = socket_inodes(pid);
  if (inodes.empty()) return false;
  for (int family : {AF_INET, AF_INET6, AF_UNIX})
    if (any_listening(family, inodes, except_port)) return true;
  return false;
}

}  // namespace muster::daemon
