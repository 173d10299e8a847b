// Notify datagrams that come before their worker is known
// (daemon/network/early_notify.h).
#include <catch2/catch.hpp>

#include "daemon/network/early_notify.h"

using muster::daemon::Clock;
using muster::daemon::EarlyNotify;
using muster::ipc::NotifyMessage;

namespace {

NotifyMessage with_status(const char* status) {
  NotifyMessage m;
  m.status = status;
  return m;
}

}  // namespace

TEST_CASE("a worker gets the datagrams it sent before it was known, in order", "[notify]") {
  EarlyNotify early;
  const auto t0 = Clock::now();
  NotifyMessage ready;
  ready.ready = true;
  early.keep(100, with_status("starting"), t0);
  early.keep(200, with_status("other"), t0);
  early.keep(100, ready, t0);
  auto got = early.take(100, t0 + std::chrono::milliseconds(1));
  REQUIRE(got.size() == 2);
  CHECK(got[0].status == "starting");
  CHECK(got[1].ready);
  CHECK(early.take(100, t0).empty());  // taken once
  CHECK(early.size() == 1);            // pid 200's is still there
}

TEST_CASE("early datagrams are kept a while and in bounded number", "[notify]") {
  EarlyNotify early;
  const auto t0 = Clock::now();
  early.keep(100, with_status("old"), t0);
  CHECK(early.take(100, t0 + EarlyNotify::kMaxAge + std::chrono::milliseconds(1)).empty());

  for (pid_t pid = 1; pid <= static_cast<pid_t>(EarlyNotify::kMaxKept) + 10; ++pid)
    early.keep(pid, with_status("x"), t0);
  CHECK(early.size() == EarlyNotify::kMaxKept);
  CHECK(early.take(1, t0).empty());  // the oldest went first
  CHECK(early.take(static_cast<pid_t>(EarlyNotify::kMaxKept) + 10, t0).size() == 1);
}
