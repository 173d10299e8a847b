#include <catch2/catch.hpp>

#include <signal.h>

#include <vector>

#include "daemon/supervision/restart_policy.h"

using namespace std::chrono_literals;
using muster::config::RestartMode;
using muster::daemon::Backoff;
using muster::daemon::Clock;
using muster::daemon::CrashWindow;
using muster::daemon::should_restart;

TEST_CASE("backoff starts at restart_delay and doubles per consecutive crash", "[backoff]") {
  Backoff b(100ms, 30s, 5s);
  CHECK(b.on_crash(10ms) == 100ms);
  CHECK(b.on_crash(10ms) == 200ms);
  CHECK(b.on_crash(10ms) == 400ms);
  CHECK(b.on_crash(10ms) == 800ms);
  CHECK(b.consecutive() == 4);
}

TEST_CASE("backoff is capped at restart_delay_max", "[backoff]") {
  Backoff b(1s, 5s, 5s);
  for (int i = 0; i < 3; ++i) b.on_crash(0ms);  // 1s 2s 4s
  CHECK(b.on_crash(0ms) == 5s);
  for (int i = 0; i < 100; ++i) CHECK(b.on_crash(0ms) == 5s);  // no overflow
}

TEST_CASE("a worker that lived min_uptime resets the backoff", "[backoff]") {
  Backoff b(100ms, 30s, 5s);
  b.on_crash(0ms);
  b.on_crash(0ms);
  CHECK(b.on_crash(5s) == 100ms);
  CHECK(b.consecutive() == 1);
  CHECK(b.on_crash(4999ms) == 200ms);
}

TEST_CASE("a zero restart_delay restarts at once", "[backoff]") {
  Backoff b(0ms, 30s, 5s);
  CHECK(b.on_crash(0ms) == 0ms);
  CHECK(b.on_crash(0ms) == 0ms);
}

TEST_CASE("more than max_restarts within the window is a crash loop", "[crash-window]") {
  CrashWindow w(3, 60s);
  auto t = Clock::time_point{} + 1h;
  CHECK_FALSE(w.record(t));
  CHECK_FALSE(w.record(t + 1s));
  CHECK_FALSE(w.record(t + 2s));
  CHECK(w.record(t + 3s));
}

TEST_CASE("restarts older than the window are forgotten", "[crash-window]") {
  CrashWindow w(2, 10s);
  auto t = Clock::time_point{} + 1h;
  CHECK_FALSE(w.record(t));
  CHECK_FALSE(w.record(t + 1s));
  CHECK_FALSE(w.record(t + 12s));  // the first two fell out
  CHECK_FALSE(w.record(t + 13s));
  CHECK(w.record(t + 14s));
}

TEST_CASE("max_restarts = 0 fails on the first crash", "[crash-window]") {
  CrashWindow w(0, 60s);
  CHECK(w.record(Clock::time_point{} + 1h));
}

TEST_CASE("reset clears the crash history", "[crash-window]") {
  CrashWindow w(1, 60s);
  auto t = Clock::time_point{} + 1h;
  w.record(t);
  w.reset();
  CHECK_FALSE(w.record(t + 1s));
}

TEST_CASE("restart modes decide which exits are followed by a restart", "[policy]") {
  CHECK(should_restart(RestartMode::always, false, true));
  CHECK(should_restart(RestartMode::always, true, false));
  CHECK(should_restart(RestartMode::on_failure, false, false));
  CHECK_FALSE(should_restart(RestartMode::on_failure, false, true));
  CHECK_FALSE(should_restart(RestartMode::on_failure, true, false));
  CHECK_FALSE(should_restart(RestartMode::never, false, false));
}

TEST_CASE("a restart delay is jittered by at most 20 % and never above the cap") {
  using muster::daemon::jittered;
  CHECK(jittered(1000ms, 10s, 0.0) == 800ms);
  CHECK(jittered(1000ms, 10s, 0.5) == 1000ms);
  CHECK(jittered(1000ms, 10s, 0.999) >= 1199ms);
  CHECK(jittered(1000ms, 10s, 0.999) < 1200ms);
  CHECK(jittered(1000ms, 1000ms, 0.9) == 1000ms);  // the cap holds
  CHECK(jittered(1000ms, 1000ms, 0.0) == 800ms);   // below the cap: spread
  CHECK(jittered(0ms, 1s, 0.7) == 0ms);
  CHECK(jittered(1000ms, 10s, 7.0) == 1200ms);  // out-of-range samples are clamped
}

TEST_CASE("one crash per slot is never a crash loop, however many slots crash") {
  std::vector<CrashWindow> slots(12, CrashWindow(10, 60s));
  auto now = Clock::now();
  for (auto& slot : slots) CHECK_FALSE(slot.record(now));
}

// --- OperatorSignals: did `musterctl kill` end the worker? --------------------

using muster::daemon::OperatorSignals;

TEST_CASE("a worker killed by the very signal the operator sent left voluntarily",
          "[operator-kill]") {
  OperatorSignals sent;
  Clock::time_point t0{};
  sent.sent(SIGUSR2, t0, SIGTERM, 5s);
  CHECK(sent.ended_it(SIGUSR2, t0 + 1h));  // however long it took
  CHECK_FALSE(sent.ended_it(SIGTERM, t0));
}

TEST_CASE("a worker that trapped the operator's signal and later crashed crashed",
          "[operator-kill]") {
  OperatorSignals sent;
  Clock::time_point t0{};
  sent.sent(SIGUSR2, t0, SIGTERM, 5s);
  CHECK_FALSE(sent.ended_it(SIGSEGV, t0 + 1s));
  CHECK_FALSE(sent.ended_it(SIGKILL, t0 + 1s));
  // USR2 does not ask a process to end: no exit code is its answer.
  CHECK_FALSE(sent.ended_it(std::nullopt, t0 + 1ms));
}

TEST_CASE("an exit with a code within stop_timeout of an operator's SIGTERM answers it",
          "[operator-kill]") {
  for (int signo : {SIGTERM, SIGINT, SIGQUIT}) {
    OperatorSignals sent;
    Clock::time_point t0{};
    sent.sent(signo, t0, SIGTERM, 5s);
    CHECK(sent.ended_it(std::nullopt, t0 + 5s));
    CHECK_FALSE(sent.ended_it(std::nullopt, t0 + 5001ms));
    CHECK_FALSE(sent.ended_it(SIGSEGV, t0 + 1s));  // a crash while leaving is a crash
  }
}

TEST_CASE("the app's stop_signal asks to end like SIGTERM", "[operator-kill]") {
  OperatorSignals sent;
  Clock::time_point t0{};
  sent.sent(SIGWINCH, t0, SIGWINCH, 2s);
  CHECK(sent.ended_it(std::nullopt, t0 + 1s));
  OperatorSignals other;
  other.sent(SIGWINCH, t0, SIGTERM, 2s);
  CHECK_FALSE(other.ended_it(std::nullopt, t0 + 1s));
}

TEST_CASE("nothing sent: no exit is the operator's", "[operator-kill]") {
  OperatorSignals none;
  CHECK_FALSE(none.ended_it(SIGTERM, Clock::time_point{}));
  CHECK_FALSE(none.ended_it(std::nullopt, Clock::time_point{}));
  none.sent(0, Clock::time_point{}, SIGTERM, 5s);  // out of range: ignored
  none.sent(65, Clock::time_point{}, SIGTERM, 5s);
  CHECK_FALSE(none.ended_it(0, Clock::time_point{}));
  CHECK_FALSE(none.ended_it(std::nullopt, Clock::time_point{}));
}
