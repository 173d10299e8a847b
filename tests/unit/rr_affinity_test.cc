// RoundRobin with client affinity (affinity = "client-ip"): slots, holding,
// moving to the next slot, scaling.
#include <catch2/catch.hpp>

#include "rr_harness.h"
#include "scheduler/affinity.h"

using muster::scheduler::best_slot;
using muster::scheduler::ClientKey;

namespace {

// A client whose slot (of `slots`) is `slot`, and whose next slot is `next`
// if given.
ClientKey client_of(unsigned slot, unsigned slots, std::optional<unsigned> next = {}) {
  for (ClientKey k = 1;; ++k) {
    if (best_slot(k, slots) != slot) continue;
    if (next && best_slot(k, slots, [&](unsigned s) { return s != slot; }) != next) continue;
    return k;
  }
}

// Slots 0 and 1 with workers 10 and 11.
void two_slots(Harness& h) {
  h.rr.set_slots(2);
  h.rr.add(10, 0);
  h.rr.add(11, 1);
}

RoundRobin::Limits limits() {
  RoundRobin::Limits l;
  l.pending_timeout = 10s;
  return l;
}

}  // namespace

TEST_CASE("a client's connections all go to the worker of its slot", "[rr][affinity]") {
  Harness h;
  two_slots(h);
  ClientKey a = client_of(0, 2), b = client_of(1, 2);
  for (int i = 0; i < 5; ++i) {
    h.connect(a);
    h.rr.reply(10, true, h.now);
    h.connect(b);
    h.rr.reply(11, true, h.now);
  }
  REQUIRE(h.handed.size() == 10);
  for (std::size_t i = 0; i < 10; ++i) CHECK(h.handed[i].first == (i % 2 == 0 ? 10u : 11u));
}

TEST_CASE("a pinned connection waits for its slot's busy worker, not another one",
          "[rr][affinity]") {
  Harness h;
  two_slots(h);
  ClientKey a = client_of(0, 2);
  h.connect(a);
  h.connect(a);  // worker 10 is busy with the first; 11 is free but not its slot
  CHECK(h.handed.size() == 1);
  CHECK(h.rr.pending() == 1);
  h.rr.reply(10, true, h.now);
  REQUIRE(h.handed.size() == 2);
  CHECK(h.handed[1].first == 10u);
}

TEST_CASE("a client without a key (unix socket) goes to any free worker", "[rr][affinity]") {
  Harness h;
  two_slots(h);
  h.connect();
  h.connect();
  CHECK(h.handed.size() == 2);
}

TEST_CASE("a slot's connections wait for its restarted worker within pending_timeout",
          "[rr][affinity]") {
  Harness h(limits());
  two_slots(h);
  h.rr.remove(10);  // slot 0's worker died
  ClientKey a = client_of(0, 2);
  int fd = h.connect(a);
  h.now += 5s;
  CHECK(h.rr.tick(h.now) == 0);
  CHECK(h.handed.empty());  // not to worker 11
  h.rr.add(12, 0);          // its replacement
  REQUIRE(h.handed.size() == 1);
  CHECK(h.handed[0] == std::pair<WorkerId, int>(12, fd));
}

TEST_CASE("after pending_timeout with no worker in its slot a connection goes to the next slot",
          "[rr][affinity]") {
  Harness h(limits());
  h.rr.set_slots(3);
  h.rr.add(11, 1);
  h.rr.add(12, 2);
  ClientKey a = client_of(0, 3, 2u);
  int fd = h.connect(a);
  CHECK(h.rr.next_deadline() == h.now + 10s);
  h.now += 10s;
  CHECK(h.rr.tick(h.now) == 0);  // moved, not closed
  REQUIRE(h.handed.size() == 1);
  CHECK(h.handed[0] == std::pair<WorkerId, int>(12, fd));
  CHECK(h.rr.moved() == 1);
  // The slot is skipped now: its next client goes to its next slot at once.
  h.rr.reply(12, true, h.now);
  h.connect(a);
  REQUIRE(h.handed.size() == 2);
  CHECK(h.handed[1].first == 12u);
  // Until a worker of slot 0 listens again.
  h.rr.reply(12, true, h.now);
  h.rr.add(10, 0);
  h.connect(a);
  REQUIRE(h.handed.size() == 3);
  CHECK(h.handed[2].first == 10u);
}

TEST_CASE("a pinned connection whose slot has a busy worker is closed at pending_timeout",
          "[rr][affinity]") {
  Harness h(limits());
  two_slots(h);
  ClientKey a = client_of(0, 2);
  h.connect(a);           // worker 10 never answers
  int fd = h.connect(a);  // waits for it
  h.now += 10s;
  CHECK(h.rr.tick(h.now) == 1);
  CHECK_FALSE(is_open(fd));
  CHECK(h.rr.pending() == 0);
}

TEST_CASE("scaling down moves a removed slot's held connections to their next slot",
          "[rr][affinity]") {
  Harness h;
  h.rr.set_slots(3);
  h.rr.add(10, 0);
  h.rr.add(11, 1);
  ClientKey a = client_of(2, 3);
  int fd = h.connect(a);  // slot 2 has no worker yet
  CHECK(h.handed.empty());
  h.rr.set_slots(2);
  REQUIRE(h.handed.size() == 1);
  CHECK(h.handed[0].second == fd);
  CHECK(h.handed[0].first == (best_slot(a, 2) == 0 ? 10u : 11u));
}

TEST_CASE("a refused pinned connection goes back to its slot's worker after the pause",
          "[rr][affinity]") {
  Harness h;
  two_slots(h);
  int fd = h.connect(client_of(0, 2));
  h.rr.reply(10, false, h.now);
  CHECK(h.handed.size() == 1);  // not to 11
  h.now += 100ms;
  h.rr.tick(h.now);
  REQUIRE(h.handed.size() == 2);
  CHECK(h.handed[1] == std::pair<WorkerId, int>(10, fd));
}
