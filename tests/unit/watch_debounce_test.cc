// Debounce and ReloadQueue (daemon/watch/debounce.cc): many changes, one
// batch once quiet; one reload at a time, at most one more queued.
#include <catch2/catch.hpp>

#include <memory>

#include "daemon/watch/debounce.h"
#include "tests/unit/manual_clock.h"

using muster::daemon::ChangeBatch;
using muster::daemon::Debounce;
using muster::daemon::ReloadQueue;
using namespace std::chrono_literals;

namespace {

struct Fired {
  boost::asio::io_context io;
  std::vector<ChangeBatch> batches;
  std::shared_ptr<Debounce> debounce = std::make_shared<Debounce>(
      io, 500ms, [this](ChangeBatch batch) { batches.push_back(std::move(batch)); });
};

}  // namespace

TEST_CASE("changes coming faster than the delay fire once, when they stop", "[watch]") {
  Fired f;
  for (int i = 0; i < 20; ++i) {
    f.debounce->note("src/a.js");
    muster::test::advance(f.io, 100ms);
  }
  CHECK(f.batches.empty());
  muster::test::advance(f.io, 400ms);
  REQUIRE(f.batches.size() == 1);
  CHECK(f.batches[0].files == std::vector<std::string>{"src/a.js"});
  CHECK(f.batches[0].count == 1);
}

TEST_CASE("nothing fires before the delay has passed quietly", "[watch]") {
  Fired f;
  f.debounce->note("a");
  muster::test::advance(f.io, 499ms);
  CHECK(f.batches.empty());
  muster::test::advance(f.io, 1ms);
  CHECK(f.batches.size() == 1);
}

TEST_CASE("a batch shows the first few distinct files and counts them all", "[watch]") {
  Fired f;
  for (int i = 0; i < 8; ++i) f.debounce->note("f" + std::to_string(i));
  f.debounce->note("f0");
  muster::test::advance(f.io, 500ms);
  REQUIRE(f.batches.size() == 1);
  CHECK(f.batches[0].files == std::vector<std::string>{"f0", "f1", "f2", "f3", "f4"});
  CHECK(f.batches[0].count == 8);
}

TEST_CASE("changes that never stop still fire after ten delays", "[watch]") {
  Fired f;
  for (int i = 0; i < 60; ++i) {
    f.debounce->note("app.log");
    muster::test::advance(f.io, 100ms);
  }
  CHECK(f.batches.size() == 1);  // at 5s, the tenth delay after the first
}

TEST_CASE("a change after a batch starts the next batch", "[watch]") {
  Fired f;
  f.debounce->note("a");
  muster::test::advance(f.io, 600ms);
  f.debounce->note("b");
  muster::test::advance(f.io, 600ms);
  REQUIRE(f.batches.size() == 2);
  CHECK(f.batches[1].files == std::vector<std::string>{"b"});
}

TEST_CASE("a cancelled batch never fires", "[watch]") {
  Fired f;
  f.debounce->note("a");
  f.debounce->cancel();
  muster::test::advance(f.io, 1s);
  CHECK(f.batches.empty());
}

TEST_CASE("requests during a reload queue one more, however many", "[watch]") {
  ReloadQueue q;
  CHECK(q.request());
  CHECK_FALSE(q.request());
  CHECK_FALSE(q.request());
  CHECK(q.finished());  // the queued one starts
  CHECK(q.running());
  CHECK_FALSE(q.finished());
  CHECK_FALSE(q.running());
  CHECK(q.request());
}
