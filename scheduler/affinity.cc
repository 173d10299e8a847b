#include "scheduler/affinity.h"

#include <netinet/in.h>

#include <cstring>

namespace muster::scheduler {
namespace {

// splitmix64's finaliser: every input bit flips each output bit with
// probability about 1/2, which is what makes the weights uniform.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FNV-1a over the address bytes, then mixed: a fixed function (not
// std::hash), so a client's slot does not change with musterd's build.
ClientKey key_of(const unsigned char* bytes, std::size_t n) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ bytes[i]) * 0x100000001b3ULL;
  return mix(h ^ n);
}

}  // namespace

std::optional<ClientKey> client_key(const sockaddr* address, socklen_t length) {
  if (address == nullptr) return std::nullopt;
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in v4;
    std::memcpy(&v4, address, sizeof v4);
    return key_of(reinterpret_cast<const unsigned char*>(&v4.sin_addr), 4);
  }
  if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 v6;
    std::memcpy(&v6, address, sizeof v6);
    const unsigned char* bytes = v6.sin6_addr.s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) return key_of(bytes + 12, 4);
    return key_of(bytes, 16);
  }
  return std::nullopt;
}

std::optional<ClientKey> peer_key(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return std::nullopt;
  return client_key(reinterpret_cast<const sockaddr*>(&address), length);
}

std::uint64_t slot_weight(ClientKey key, unsigned slot) {
  return mix(key ^ mix(0x5851f42d4c957f2dULL + slot));
}

}  // namespace muster::scheduler
