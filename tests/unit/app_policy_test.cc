// App policy (the supervision section of the README) against the fake
// launcher and the manual clock: crash loops per slot, backoff with jitter,
// min_uptime, restart_window, failed and failed_retry, start waits, scaling.
// Each case runs in milliseconds of real time.
#include <catch2/catch.hpp>

#include <signal.h>

#include <optional>

#include "daemon/observe/snapshot.h"
#include "tests/unit/app_fixture.h"

using namespace std::chrono_literals;
using muster::daemon::App;
using muster::daemon::AppState;

using muster::test::AppTest;
using muster::test::policy_app;

TEST_CASE("a crashed worker is replaced in its slot, with a new id", "[app]") {
  AppTest t(policy_app(2));
  t.app->start();
  t.run();
  REQUIRE(t.spawns() == 2);
  t.crash(1);
  t.advance(1300ms, 10ms);
  REQUIRE(t.spawns() == 3);
  const auto& env = t.launcher.spawned[2].spec.env;
  CHECK(std::count(env.begin(), env.end(), "MUSTER_INSTANCE=1") == 1);
  CHECK(std::count(env.begin(), env.end(), "MUSTER_WORKER_ID=3") == 1);
  CHECK(t.app->counters().crashes == 1);
}

TEST_CASE("a restart waits restart_delay, jittered by at most 20 %", "[app]") {
  AppTest t(policy_app());
  t.app->start();
  t.run();
  t.crash(0);
  auto delay = std::chrono::milliseconds(t.restart_field(0, "delay_ms"));
  CHECK(t.restart_field(0, "backoff_ms") == 1000);
  CHECK(delay >= 800ms);
  CHECK(delay <= 1200ms);
  // The clock runs on in real time too (microseconds per step, more on a
  // busy box): the margins are wide, the bounds checked exactly above.
  t.advance(delay - 100ms, 10ms);
  CHECK(t.spawns() == 1);
  t.advance(200ms, 10ms);
  CHECK(t.spawns() == 2);
}

TEST_CASE("the backoff doubles with each young crash, up to restart_delay_max", "[app]") {
  auto c = policy_app();
  c.restart_delay_max = 3s;
  AppTest t(c);
  t.app->start();
  t.run();
  for (int i = 0; i < 4; ++i) {
    t.crash(0);
    t.advance(4s, 50ms);
  }
  CHECK(t.restart_field(0, "backoff_ms") == 1000);
  CHECK(t.restart_field(1, "backoff_ms") == 2000);
  CHECK(t.restart_field(2, "backoff_ms") == 3000);  // capped
  CHECK(t.restart_field(3, "delay_ms") <= 3000);    // the jitter stays under the cap
}

TEST_CASE("a worker that lived min_uptime starts the backoff again", "[app]") {
  AppTest t(policy_app());
  t.app->start();
  t.run();
  t.crash(0);
  t.advance(1300ms, 50ms);
  t.crash(0);  // young: 2 s next
  t.advance(2500ms, 50ms);
  t.advance(5s, 500ms);  // this one lives past min_uptime
  t.crash(0);
  CHECK(t.restart_field(1, "backoff_ms") == 2000);
  CHECK(t.restart_field(2, "backoff_ms") == 1000);
}

TEST_CASE("more than max_restarts crashes of one slot park that slot only", "[app]") {
  auto c = policy_app(2);
  c.max_restarts = 2;
  c.restart_delay = 100ms;
  AppTest t(c);
  t.app->start();
  t.run();
  pid_t other = t.launcher.pid_of(1);
  for (int i = 0; i < 3; ++i) {
    t.crash(0);
    t.advance(500ms, 20ms);
  }
  auto loops = t.events_named("crash_loop");
  REQUIRE(loops.size() == 1);
  CHECK(loops[0].at("instance") == 0);
  CHECK(t.app->state() == AppState::running);
  CHECK(t.launcher.alive(other));
  std::size_t spawned = t.spawns();
  t.advance(10s, 500ms);
  CHECK(t.spawns() == spawned);  // the parked slot stays empty (failed_retry = 0)
}

TEST_CASE("crashes older than restart_window do not count toward a crash loop", "[app]") {
  auto c = policy_app();
  c.max_restarts = 1;
  c.restart_delay = 100ms;
  c.restart_window = 5s;
  AppTest t(c);
  t.app->start();
  t.run();
  t.crash(0);
  t.advance(6s, 100ms);  // the first crash leaves the window
  t.crash(0);
  CHECK(t.events_named("crash_loop").empty());
  t.advance(1s, 50ms);
  CHECK(t.spawns() == 3);
}

TEST_CASE("every slot in a crash loop fails the app, and failed_retry starts it again", "[app]") {
  auto c = policy_app();
  c.max_restarts = 1;
  c.restart_delay = 100ms;
  c.failed_retry = 10s;
  AppTest t(c);
  t.app->start();
  t.run();
  t.crash(0);
  t.advance(500ms, 20ms);
  t.crash(0);
  CHECK(t.app->state() == AppState::failed);
  REQUIRE(t.events_named("failed").size() == 1);
  std::size_t spawned = t.spawns();
  t.advance(9800ms, 100ms);
  CHECK(t.spawns() == spawned);
  CHECK(t.events_named("retry").empty());
  t.advance(300ms, 100ms);
  CHECK(t.events_named("retry").size() == 1);
  CHECK(t.app->state() == AppState::running);
  CHECK(t.spawns() == spawned + 1);
}

TEST_CASE("a failed app without failed_retry waits for a start", "[app]") {
  auto c = policy_app();
  c.max_restarts = 0;
  AppTest t(c);
  t.app->start();
  t.run();
  t.crash(0);
  CHECK(t.app->state() == AppState::failed);
  t.advance(60s, 1s);
  CHECK(t.spawns() == 1);
  t.app->start();
  t.run();
  CHECK(t.app->state() == AppState::running);
  CHECK(t.spawns() == 2);
}

TEST_CASE("a spawn that fails (exec: ENOENT) is a crash: backoff, then a crash loop", "[app]") {
  auto c = policy_app();
  c.max_restarts = 2;
  c.restart_delay = 100ms;
  AppTest t(c);
  t.launcher.fail_spawns_with("cannot start '/bin/true': No such file or directory");
  t.app->start();
  t.run();
  t.advance(2s, 20ms);
  CHECK(t.events_named("restart").size() == 2);
  CHECK(t.app->state() == AppState::failed);
  CHECK(t.app->counters().crashes == 3);
}

TEST_CASE("restart = on-failure leaves a slot empty after a clean exit", "[app]") {
  auto c = policy_app();
  c.restart = muster::config::RestartMode::on_failure;
  AppTest t(c);
  t.app->start();
  t.run();
  t.launcher.exit(t.launcher.pid_of(0), 0);
  t.run();
  t.advance(10s, 100ms);
  CHECK(t.spawns() == 1);
  CHECK(t.app->counters().crashes == 0);
}

TEST_CASE("start waits for ready workers that outlive the settle time", "[app]") {
  AppTest t(policy_app(2));
  std::optional<muster::Result<void>> answer;
  t.app->start([&](muster::Result<void> result) { answer = result; });
  t.run();
  CHECK_FALSE(answer);  // ready = "spawn": they must live min(min_uptime, 1 s)
  t.advance(900ms, 100ms);
  CHECK_FALSE(answer);
  t.advance(200ms, 100ms);
  REQUIRE(answer);
  CHECK(answer->ok());
}

TEST_CASE("start fails when a worker dies before it is ready", "[app]") {
  auto c = policy_app();
  c.ready = muster::config::Ready::notify;  // never notified
  AppTest t(c);
  std::optional<muster::Result<void>> answer;
  t.app->start([&](muster::Result<void> result) { answer = result; });
  t.run();
  t.crash(0);
  REQUIRE(answer);
  REQUIRE_FALSE(answer->ok());
  CHECK(answer->error().message == "slot 0: the worker killed by SIGSEGV before it was ready");
}

TEST_CASE("scaling up fills the new slots; scaling down stops the removed ones", "[app]") {
  AppTest t(policy_app(1));
  t.app->start();
  t.run();
  t.app->scale(3);
  t.run();
  CHECK(t.spawns() == 3);
  pid_t second = t.launcher.pid_of(1), third = t.launcher.pid_of(2);
  t.app->scale(1);
  t.run();
  CHECK_FALSE(t.launcher.alive(second));
  CHECK_FALSE(t.launcher.alive(third));
  CHECK(t.launcher.signals.size() == 2);
  CHECK(t.launcher.signals[0].signo == SIGTERM);
  CHECK(t.launcher.alive(t.launcher.pid_of(0)));
}

TEST_CASE("stop ends every worker and answers once they are gone", "[app]") {
  AppTest t(policy_app(3));
  t.app->start();
  t.run();
  bool stopped = false;
  t.launcher.obey_signals = false;
  t.app->stop([&] { stopped = true; });
  t.run();
  CHECK_FALSE(stopped);
  t.advance(5100ms, 100ms);  // stop_timeout: SIGKILL
  CHECK(stopped);
  CHECK(t.launcher.live() == 0);
  CHECK(t.app->state() == AppState::stopped);
}

TEST_CASE("a rolling reload starts each slot's new worker first, then stops the old one", "[app]") {
  AppTest t(policy_app(2));
  t.app->start();
  t.run();
  pid_t old0 = t.launcher.pid_of(0), old1 = t.launcher.pid_of(1);
  std::optional<muster::Result<void>> answer;
  t.app->reload([&](muster::Result<void> result) { answer = result; });
  t.run();
  CHECK(t.spawns() >= 3);  // a new worker before any old one is stopped
  t.advance(3s, 50ms);
  REQUIRE(answer);
  CHECK(answer->ok());
  CHECK(t.spawns() == 4);
  CHECK_FALSE(t.launcher.alive(old0));
  CHECK_FALSE(t.launcher.alive(old1));
  CHECK(t.launcher.live() == 2);
  CHECK(t.app->counters().reloads_done == 1);
  CHECK(t.app->counters().crashes == 0);  // the old ones were asked to go
}

TEST_CASE("a reload whose new worker dies before it is ready stops; the old ones keep serving",
          "[app]") {
  auto c = policy_app(2);
  c.ready = muster::config::Ready::notify;
  AppTest t(c);
  std::vector<pid_t> old;
  t.app->start();
  t.run();
  old = {t.launcher.pid_of(0), t.launcher.pid_of(1)};
  std::optional<muster::Result<void>> answer;
  t.app->reload([&](muster::Result<void> result) { answer = result; });
  t.run();
  REQUIRE(t.spawns() >= 3);
  pid_t fresh = t.launcher.spawned[2].pid;
  t.launcher.die(fresh, SIGSEGV);
  t.run();
  t.advance(1s, 50ms);
  REQUIRE(answer);
  REQUIRE_FALSE(answer->ok());
  CHECK(t.launcher.alive(old[0]));
  CHECK(t.launcher.alive(old[1]));
  CHECK(t.app->counters().reloads_failed == 1);
}

TEST_CASE("replacing a slot whose replacement is on its way joins it", "[app]") {
  AppTest t(policy_app(1));
  t.app->start();
  t.run();
  int answers = 0;
  // The second comes while the first's new worker is on its way (no loop turn
  // between: with ready = "spawn" a turn would finish the first).
  t.app->replace(0, [&](muster::Result<void> result) { answers += result ? 1 : 100; });
  t.app->replace(0, [&](muster::Result<void> result) { answers += result ? 1 : 100; });
  t.run();
  t.advance(3s, 50ms);
  CHECK(answers == 2);     // both answered, neither with an error
  CHECK(t.spawns() == 2);  // one replacement, not two
  CHECK(t.launcher.live() == 1);
}

TEST_CASE("reset zeroes restart counts, crash history and backoff, and starts nothing", "[app]") {
  auto c = policy_app();
  c.max_restarts = 2;
  c.restart_delay = 100ms;
  AppTest t(c);
  t.app->start();
  t.run();
  for (int i = 0; i < 2; ++i) {  // two young crashes: backoff 200 ms next, 2 of 2
    t.crash(0);
    t.advance(1s, 20ms);
  }
  REQUIRE(t.app->workers().at(0)->identity().restarts == 2);
  t.app->reset_history();
  CHECK(t.app->workers().at(0)->identity().restarts == 0);
  CHECK(t.app->snapshot().workers.at(0).restarts == 0);
  std::size_t spawned = t.spawns();
  t.advance(2s, 100ms);
  CHECK(t.spawns() == spawned);  // nothing started by the reset itself
  // Two more crashes: without the reset, the third of the window (a crash
  // loop) with backoff 400 ms; after it, the first and second, from 100 ms.
  t.crash(0);
  t.advance(1s, 20ms);
  t.crash(0);
  t.advance(1s, 20ms);
  CHECK(t.events_named("crash_loop").empty());
  auto restarts = t.events_named("restart");
  REQUIRE(restarts.size() == 4);
  CHECK(restarts[2].at("backoff_ms") == 100);
  CHECK(restarts[3].at("backoff_ms") == 200);
  CHECK(t.app->workers().at(0)->identity().restarts == 2);
}
