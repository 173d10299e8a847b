#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <vector>

#include "scheduler/affinity.h"

using muster::scheduler::best_slot;
using muster::scheduler::client_key;
using muster::scheduler::ClientKey;

namespace {

ClientKey v4(const char* text) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, text, &a.sin_addr);
  return *client_key(reinterpret_cast<sockaddr*>(&a), sizeof a);
}

ClientKey v6(const char* text) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, text, &a.sin6_addr);
  return *client_key(reinterpret_cast<sockaddr*>(&a), sizeof a);
}

// 1000 client addresses: 500 IPv4 (10.1.x.y) and 500 IPv6 (2001:db8::x:y).
std::vector<ClientKey> thousand_clients() {
  std::vector<ClientKey> keys;
  char text[64];
  for (int i = 0; i < 500; ++i) {
    std::snprintf(text, sizeof text, "10.1.%d.%d", i / 200, i % 200 + 1);
    keys.push_back(v4(text));
    std::snprintf(text, sizeof text, "2001:db8::%x:%x", i / 100, i % 100 + 1);
    keys.push_back(v6(text));
  }
  return keys;
}

}  // namespace

TEST_CASE("1000 client addresses split over the slots within 10 percent of even", "[affinity]") {
  auto keys = thousand_clients();
  for (unsigned slots : {2u, 3u, 4u}) {
    std::map<unsigned, int> count;
    for (ClientKey k : keys) ++count[best_slot(k, slots)];
    double even = 1000.0 / slots;
    for (unsigned s = 0; s < slots; ++s) {
      INFO(slots << " slots, slot " << s << ": " << count[s] << " clients");
      CHECK(count[s] >= even * 0.9);
      CHECK(count[s] <= even * 1.1);
    }
  }
}

TEST_CASE("more slots split more clients as evenly (8 slots, 10000 addresses)", "[affinity]") {
  // With a random-looking hash the spread is statistical: 1000 clients over 8
  // slots are 125 +- 10 each, so the 10 percent bound needs more clients.
  std::map<unsigned, int> count;
  for (int i = 0; i < 10000; ++i) {
    char text[32];
    std::snprintf(text, sizeof text, "172.16.%d.%d", i / 250, i % 250 + 1);
    ++count[best_slot(v4(text), 8)];
  }
  for (unsigned s = 0; s < 8; ++s) {
    INFO("slot " << s << ": " << count[s] << " clients");
    CHECK(count[s] >= 1250 * 0.9);
    CHECK(count[s] <= 1250 * 1.1);
  }
}

TEST_CASE("adding a slot moves only the clients that go to the new slot", "[affinity]") {
  auto keys = thousand_clients();
  int moved = 0;
  for (ClientKey k : keys) {
    unsigned before = best_slot(k, 4), after = best_slot(k, 5);
    if (before != after) {
      CHECK(after == 4u);
      ++moved;
    }
  }
  // About a fifth of them (1000/5), and no more.
  CHECK(moved >= 150);
  CHECK(moved <= 250);
}

TEST_CASE("removing a slot moves only that slot's clients", "[affinity]") {
  auto keys = thousand_clients();
  for (ClientKey k : keys) {
    unsigned before = best_slot(k, 5), after = best_slot(k, 4);
    if (before != 4u) CHECK(after == before);
  }
}

TEST_CASE("a client's slot depends only on its address and the slot count", "[affinity]") {
  // Fixed values: a client keeps its slot across restarts of musterd and of
  // its builds (no per-process seed, no std::hash).
  CHECK(v4("192.0.2.7") == v4("192.0.2.7"));
  CHECK(v4("192.0.2.7") != v4("192.0.2.8"));
  CHECK(best_slot(v4("192.0.2.7"), 4) == best_slot(v4("192.0.2.7"), 4));
  CHECK(v4("127.0.0.1") == 0x499691550de66287ULL);  // pinned: changing the hash moves every client
}

TEST_CASE("an IPv4 client has the same key on an IPv6 socket (v4-mapped)", "[affinity]") {
  CHECK(v6("::ffff:192.0.2.7") == v4("192.0.2.7"));
  CHECK(v6("2001:db8::1") != v6("2001:db8::2"));
}

TEST_CASE("a client without an IP address (unix socket) has no key", "[affinity]") {
  sockaddr_un u{};
  u.sun_family = AF_UNIX;
  std::strcpy(u.sun_path, "/tmp/x");
  CHECK_FALSE(client_key(reinterpret_cast<sockaddr*>(&u), sizeof u));
  CHECK_FALSE(client_key(nullptr, 0));
  sockaddr_in short_one{};
  short_one.sin_family = AF_INET;
  CHECK_FALSE(client_key(reinterpret_cast<sockaddr*>(&short_one), 4));
}

TEST_CASE("a client whose slot is not eligible goes to its next slot", "[affinity]") {
  ClientKey k = v4("198.51.100.20");
  unsigned first = best_slot(k, 4);
  auto next = best_slot(k, 4, [&](unsigned s) { return s != first; });
  REQUIRE(next);
  CHECK(*next != first);
  CHECK_FALSE(best_slot(k, 4, [](unsigned) { return false; }));
}
