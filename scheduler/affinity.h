// Client affinity for round-robin (affinity = "client-ip"): which instance
// slot a client's connections go to. Node's cluster has no sticky mode, and
// socket.io's HTTP long-polling needs every request of a session on one
// worker, which is what @socket.io/sticky's primary does by reading the
// requests; musterd never reads them, so it keys on the client's address.
//
// Rendezvous (highest random weight) hashing over the slots 0..n-1: each
// slot gets a pseudo-random weight per client and the heaviest wins. Adding
// a slot moves only the clients that now weigh most on it (about 1/(n+1) of
// them), removing one moves only its own, and the ranking gives every client
// a "next slot" for when its own has no worker (RoundRobin uses it). The
// weights depend on nothing but the address and the slot number, so a slot's
// clients come back to it across restarts of its worker and of musterd.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>

namespace muster::scheduler {

using ClientKey = std::uint64_t;

// The key of a client address. An IPv4-mapped IPv6 address (an IPv4 client of
// a dual-stack socket) has its IPv4 address's key, so a client keeps its slot
// whichever of the two sockets it reaches. nullopt for a client without an IP
// address (a unix socket's): such connections are not pinned to a slot.
std::optional<ClientKey> client_key(const sockaddr* address, socklen_t length);
// The key of the client at the other end of connected socket `fd`.
std::optional<ClientKey> peer_key(int fd);

// `slot`'s weight for the client `key`.
std::uint64_t slot_weight(ClientKey key, unsigned slot);

// The heaviest slot among 0..slots-1 that `eligible(slot)` accepts; nullopt
// if none does. O(slots): a few nanoseconds per slot.
template <class Eligible>
std::optional<unsigned> best_slot(ClientKey key, unsigned slots, Eligible&& eligible) {
  std::optional<unsigned> best;
  std::uint64_t best_weight = 0;
  for (unsigned slot = 0; slot < slots; ++slot) {
    if (!eligible(slot)) continue;
    std::uint64_t w = slot_weight(key, slot);
    if (!best || w > best_weight) {
      best = slot;
      best_weight = w;
    }
  }
  return best;
}

inline unsigned best_slot(ClientKey key, unsigned slots) {
  return best_slot(key, slots, [](unsigned) { return true; }).value_or(0);
}

}  // namespace muster::scheduler
