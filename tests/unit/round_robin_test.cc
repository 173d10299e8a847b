#include <catch2/catch.hpp>
#include "rr_harness.h"

TEST_CASE("connections go to free workers in turn", "[rr]") {
  Harness h;
  h.rr.add(1);
  h.rr.add(2);
  h.rr.add(3);
  for (int i = 0; i < 3; ++i) h.connect();
  REQUIRE(h.handed.size() == 3);
  CHECK(h.handed[0].first == 1);
  CHECK(h.handed[1].first == 2);
  CHECK(h.handed[2].first == 3);
  // Workers answer in another order; they are served in the order they freed up.
  h.rr.reply(3, true, h.now);
  h.rr.reply(1, true, h.now);
  h.connect();
  h.connect();
  CHECK(h.handed[3].first == 3);
  CHECK(h.handed[4].first == 1);
}

TEST_CASE("a busy worker gets nothing until it answers", "[rr]") {
  Harness h;
  h.rr.add(1);
  h.connect();
  h.connect();
  CHECK(h.handed.size() == 1);
  CHECK(h.rr.pending() == 1);
  h.rr.reply(1, true, h.now);
  CHECK(h.handed.size() == 2);
  CHECK(h.rr.pending() == 0);
}

TEST_CASE("an accepted connection's daemon copy is closed", "[rr]") {
  Harness h;
  h.rr.add(1);
  int fd = h.connect();
  CHECK(is_open(fd));
  h.rr.reply(1, true, h.now);
  CHECK_FALSE(is_open(fd));
}

TEST_CASE("connections are held while no worker exists and served when one comes", "[rr]") {
  Harness h;
  for (int i = 0; i < 5; ++i) h.connect();
  CHECK(h.rr.pending() == 5);
  h.rr.add(7);
  for (int i = 0; i < 5; ++i) h.rr.reply(7, true, h.now);
  CHECK(h.handed.size() == 5);
  CHECK(h.rr.pending() == 0);
}

TEST_CASE("a refused connection goes to another worker, not back to the refuser", "[rr]") {
  Harness h;
  h.rr.add(1);
  h.rr.add(2);
  int fd = h.connect();        // -> 1
  h.rr.reply(2, true, h.now);  // no-op: 2 has nothing in flight
  h.rr.reply(1, false, h.now);
  REQUIRE(h.handed.size() == 2);
  CHECK(h.handed[1] == std::make_pair(WorkerId{2}, fd));
}

TEST_CASE("a lone refusing worker is retried only after a pause", "[rr]") {
  Harness h({1024, 10s, 100ms});
  h.rr.add(1);
  h.connect();
  h.rr.reply(1, false, h.now);
  CHECK(h.handed.size() == 1);
  CHECK(h.rr.pending() == 1);
  REQUIRE(h.rr.next_deadline());
  CHECK(*h.rr.next_deadline() == h.now + 100ms);
  h.rr.tick(h.now + 50ms);
  CHECK(h.handed.size() == 1);
  h.rr.tick(h.now + 100ms);
  CHECK(h.handed.size() == 2);
}

TEST_CASE("removing a worker hands back what it was handed and re-queues nothing", "[rr]") {
  Harness h;
  h.rr.add(1);
  int fd = h.connect();
  h.connect();
  UniqueFd taken = h.rr.remove(1);
  CHECK(taken.get() == fd);
  taken.reset();
  CHECK_FALSE(is_open(fd));
  CHECK(h.rr.pending() == 1);
  h.rr.add(2);
  CHECK(h.handed.back().first == 2);
}

TEST_CASE("held connections older than pending_timeout are closed", "[rr]") {
  Harness h({1024, 10s, 100ms});
  int a = h.connect();
  h.now += 5s;
  int b = h.connect();
  CHECK(*h.rr.next_deadline() == h.now + 5s);
  CHECK(h.rr.tick(h.now + 5s) == 1);
  CHECK_FALSE(is_open(a));
  CHECK(is_open(b));
  CHECK(h.rr.pending() == 1);
}

TEST_CASE("the queue reports full at max_pending", "[rr]") {
  Harness h({2, 10s, 100ms});
  h.connect();
  CHECK_FALSE(h.rr.full());
  h.connect();
  CHECK(h.rr.full());
}

TEST_CASE("a failed hand-off keeps the connection for another worker", "[rr]") {
  Harness h;
  h.broken[1] = true;
  h.rr.add(1);
  int fd = h.connect();
  CHECK(h.rr.pending() == 1);
  h.rr.remove(1);
  h.rr.add(2);
  CHECK(h.handed.back() == std::make_pair(WorkerId{2}, fd));
}
