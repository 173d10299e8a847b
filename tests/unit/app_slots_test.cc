// App policy for slots, against the fake launcher and the manual clock: the
// spawn batches of a large start or scale, the failed_retry of a parked slot,
// and the exits that are no crashes (clean, voluntary).
#include <catch2/catch.hpp>

#include <signal.h>

#include <boost/asio/post.hpp>

#include "tests/unit/app_fixture.h"

using namespace std::chrono_literals;
using muster::daemon::AppState;
using muster::test::AppTest;
using muster::test::policy_app;

TEST_CASE("scaling up spawns in time slices, and the loop runs other work between them", "[app]") {
  AppTest t(policy_app(1));
  t.app->start();
  t.run();
  // Each spawn costs the loop 1 ms: a 2 ms slice holds two.
  t.launcher.spawn_cost = 1ms;
  t.app->scale(9);
  std::vector<std::size_t> seen;  // spawns so far, at each turn of other work
  std::function<void()> other_work = [&] {
    seen.push_back(t.spawns());
    if (seen.size() < 10) boost::asio::post(t.io, other_work);
  };
  boost::asio::post(t.io, other_work);
  t.run();
  REQUIRE(t.spawns() == 9);
  REQUIRE(seen.size() >= 2);
  CHECK(seen[0] == 3);  // the first slice: two spawns, then the loop's other work
  CHECK(seen[1] == 5);
  CHECK(t.launcher.live() == 9);
}

TEST_CASE("a worker its spawn makes ready is read from /proc when asked, one ready later at once",
          "[app]") {
  std::vector<pid_t> reads;  // before the app: its workers read it
  AppTest t(policy_app(1));  // no channel: online, hence ready, at its spawn
  t.context.read_usage = [&reads](pid_t pid) {
    reads.push_back(pid);
    muster::daemon::ProcUsage usage;
    usage.state = 'S';
    usage.rss_bytes = 1 << 20;
    return std::optional(usage);
  };
  t.app->start();
  t.run();
  REQUIRE(t.spawns() == 1);
  CHECK(t.app->state() == AppState::running);
  // Still being exec'd then: reading it would wait for it on the loop.
  CHECK(reads.empty());
  CHECK(t.app->workers().at(0)->usage().rss_bytes == 1 << 20);  // read on the spot
  CHECK(reads == std::vector<pid_t>{t.launcher.pid_of(0)});

  auto c = policy_app(1);
  c.ready = muster::config::Ready::notify;
  AppTest n(c);
  std::vector<pid_t> later;
  n.context.read_usage = [&later](pid_t pid) {
    later.push_back(pid);
    return std::optional<muster::daemon::ProcUsage>();
  };
  n.app->start();
  n.run();
  CHECK(later.empty());
  n.notify_ready(n.launcher.pid_of(0));
  CHECK(later == std::vector<pid_t>{n.launcher.pid_of(0)});  // sampled as it becomes ready
}

TEST_CASE("a slot parked in a crash loop is tried again after failed_retry, the others run on",
          "[app]") {
  auto c = policy_app(2);
  c.max_restarts = 1;
  c.restart_delay = 100ms;
  c.failed_retry = 10s;
  AppTest t(c);
  t.app->start();
  t.run();
  pid_t other = t.launcher.pid_of(1);
  t.crash(0);
  t.advance(500ms, 20ms);
  t.crash(0);
  REQUIRE(t.events_named("crash_loop").size() == 1);
  std::size_t spawned = t.spawns();
  t.advance(9800ms, 100ms);
  CHECK(t.spawns() == spawned);
  t.advance(300ms, 100ms);
  REQUIRE(t.spawns() == spawned + 1);
  CHECK(t.launcher.alive(t.launcher.pid_of(0)));
  CHECK(t.launcher.alive(other));
  CHECK(t.app->state() == AppState::running);
  // Tried again with a clean slate: one crash is not a loop yet.
  t.crash(0);
  CHECK(t.events_named("crash_loop").size() == 1);
}

TEST_CASE("clean exits are refilled after the backoff and never make a crash loop", "[app]") {
  auto c = policy_app();
  c.max_restarts = 1;
  AppTest t(c);
  t.app->start();
  t.run();
  for (std::size_t i = 1; i <= 4; ++i) {
    t.launcher.exit(t.launcher.pid_of(0), 0);
    t.run();
    // Until the slot is refilled, so that each worker exits young.
    for (int step = 0; step < 400 && t.spawns() == i; ++step) t.advance(50ms);
  }
  CHECK(t.spawns() == 5);
  CHECK(t.events_named("crash_loop").empty());
  CHECK(t.app->state() == AppState::running);
  CHECK(t.app->counters().crashes == 0);
  CHECK(t.app->counters().restarts == 0);
  CHECK(t.restart_field(3, "backoff_ms") == 8000);  // young exits still back off
  CHECK_FALSE(t.events_named("restart").at(0).at("crash").as_bool());
}

TEST_CASE("a worker the operator killed is refilled at once: no backoff, no crash", "[app]") {
  auto c = policy_app();
  c.max_restarts = 0;  // a single crash would park the slot
  AppTest t(c);
  t.app->start();
  t.run();
  pid_t pid = t.launcher.pid_of(0);
  auto workers = t.app->workers();
  REQUIRE(workers.size() == 1);
  REQUIRE(workers[0]->send_signal(SIGTERM));  // musterctl kill
  t.run();
  CHECK_FALSE(t.launcher.alive(pid));
  CHECK(t.spawns() == 2);
  CHECK(t.launcher.alive(t.launcher.pid_of(0)));
  CHECK(t.events_named("restart").empty());
  CHECK(t.events_named("crash_loop").empty());
  CHECK(t.app->counters().crashes == 0);
  CHECK(t.app->state() == AppState::running);
}

TEST_CASE("a worker not ready by ready_timeout is killed and replaced, as a crash", "[app]") {
  auto c = policy_app();
  c.ready = muster::config::Ready::notify;  // never notified
  c.ready_timeout = 10s;
  AppTest t(c);
  t.app->start();
  t.run();
  pid_t pid = t.launcher.pid_of(0);
  t.advance(9900ms, 100ms);
  CHECK(t.launcher.alive(pid));
  t.advance(200ms, 100ms);
  CHECK_FALSE(t.launcher.alive(pid));
  REQUIRE_FALSE(t.launcher.signals.empty());
  CHECK(t.launcher.signals.back().signo == SIGKILL);
  CHECK(t.events_named("ready_timeout").size() == 1);
  REQUIRE(t.events_named("restart").size() == 1);
  CHECK(t.events_named("restart")[0].at("crash").as_bool());
  CHECK(t.app->counters().crashes == 1);
  t.advance(1300ms, 50ms);
  CHECK(t.spawns() == 2);
}

TEST_CASE("one crash in every slot at once (a shared outage) is no crash loop", "[app]") {
  auto c = policy_app(4);
  c.max_restarts = 1;
  AppTest t(c);
  t.app->start();
  t.run();
  for (unsigned i = 0; i < 4; ++i) t.launcher.die(t.launcher.pid_of(i), SIGSEGV);
  t.run();
  CHECK(t.events_named("crash_loop").empty());
  CHECK(t.app->state() == AppState::running);
  t.advance(1300ms, 50ms);
  CHECK(t.spawns() == 8);
  CHECK(t.launcher.live() == 4);
}

TEST_CASE("a start while the app is stopping is refused and changes nothing", "[app]") {
  AppTest t(policy_app(2));
  t.app->start();
  t.run();
  t.launcher.obey_signals = false;  // the workers take their time to go
  bool stopped = false;
  t.app->stop([&] { stopped = true; });
  t.run();
  std::optional<muster::Result<void>> answer;
  t.app->start([&](muster::Result<void> result) { answer = result; });
  t.run();
  REQUIRE(answer);
  REQUIRE_FALSE(answer->ok());
  CHECK(answer->error().message == "app 'web' is stopping; start it again once it has stopped");
  CHECK(t.app->state() == AppState::stopped);
  t.advance(5100ms, 100ms);  // stop_timeout: SIGKILL
  CHECK(stopped);
  CHECK(t.spawns() == 2);
  CHECK(t.launcher.live() == 0);
}
