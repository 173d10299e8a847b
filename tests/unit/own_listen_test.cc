#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/network/own_listen.h"

using muster::daemon::listens_on_own_socket;
using muster::daemon::socket_inode;

namespace {

// A TCP socket bound to an ephemeral loopback port, not listening yet.
int bound_loopback_socket() {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(s >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return s;
}

}  // namespace

TEST_CASE("a /proc/PID/fd link names a socket inode only as socket:[N]") {
  CHECK(socket_inode("socket:[12345]") == 12345u);
  CHECK_FALSE(socket_inode("pipe:[12345]"));
  CHECK_FALSE(socket_inode("socket:[]"));
  CHECK_FALSE(socket_inode("socket:[12a]"));
  CHECK_FALSE(socket_inode("/dev/null"));
}

TEST_CASE("a process holding a listening TCP socket is seen listening; bound only is not") {
  int s = bound_loopback_socket();
  CHECK_FALSE(listens_on_own_socket(::getpid()));
  REQUIRE(::listen(s, 1) == 0);
  CHECK(listens_on_own_socket(::getpid()));
  ::close(s);
  CHECK_FALSE(listens_on_own_socket(::getpid()));
}

TEST_CASE("a socket on the inspector's port is no server of the app's", "[inspect]") {
  int s = bound_loopback_socket();
  REQUIRE(::listen(s, 1) == 0);
  sockaddr_in addr{};
  socklen_t length = sizeof addr;
  REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &length) == 0);
  std::uint16_t port = ntohs(addr.sin_port);
  CHECK_FALSE(listens_on_own_socket(::getpid(), port));
  CHECK(listens_on_own_socket(::getpid(), static_cast<std::uint16_t>(port == 1 ? 2 : port - 1)));
  ::close(s);
}
