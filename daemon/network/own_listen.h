// Does a process listen on a socket of its own? A Node worker that binds its
// own server (listen({exclusive: true}), Node 23's reusePort) never tells the
// primary, so the kernel is asked instead: the socket inodes among the
// process's fds (/proc/PID/fd) against the listening TCP and unix sockets of
// musterd's network namespace (NETLINK_SOCK_DIAG, listening ones only, so a
// busy host's connections are never read).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace muster::daemon {

// The inode of a /proc/PID/fd link's target "socket:[INODE]", else nullopt.
std::optional<std::uint64_t> socket_inode(std::string_view link);

// True when `pid` holds a listening socket. Bounded: at most kMaxFds of its
// fds and kMaxListening listening sockets are looked at; any error (the
// process gone, no sock_diag) is "not seen", never a wait. A TCP socket on
// local port `except_port` does not count: the worker's Node inspector
// (inspect =) is no server of the app. 0: every socket counts.
bool listens_on_own_socket(pid_t pid, std::uint16_t except_port = 0);

inline constexpr std::size_t kMaxFds = 4096;
inline constexpr std::size_t kMaxListening = 65536;

}  // namespace muster::daemon
