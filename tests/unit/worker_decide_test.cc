// The worker's table (daemon/supervision/worker_decide.h), cell group by cell group;
// stopping, draining and the channel's close are in worker_stop_test.cc.
#include <catch2/catch.hpp>

#include <signal.h>

#include <set>
#include <string>

#include "tests/unit/worker_decide_support.h"

using namespace std::chrono_literals;
using namespace muster::test::worker;

TEST_CASE("a worker without a channel is online once it is spawned", "[worker]") {
  auto d = decide({}, E::spawned, plain(Ready::online));
  CHECK(d.life.state == S::online);
  CHECK(d.life.ready);
  CHECK(exactly(d, {A::announce_spawn, A::watch_exit, A::read_output, A::arm_ready_timer,
                    A::publish_online, A::become_ready}));
}

TEST_CASE("a node worker stays spawning until its channel says online", "[worker]") {
  auto d = decide({}, E::spawned, node());
  CHECK(d.life.state == S::spawning);
  CHECK(!d.life.ready);
  CHECK(exactly(
      d, {A::announce_spawn, A::watch_exit, A::read_output, A::arm_ready_timer, A::start_channel}));
}

TEST_CASE("ready = spawn is ready at the spawn, with no ready deadline; a watchdog is armed",
          "[worker]") {
  WorkerFacts f = plain(Ready::spawn);
  f.watchdog = true;
  auto d = decide({}, E::spawned, f);
  CHECK(d.life.ready);
  CHECK(!d.actions.has(A::arm_ready_timer));
  CHECK(d.actions.has(A::arm_watchdog));
  CHECK(!decide({}, E::spawned, plain()).actions.has(A::arm_watchdog));
  for (S s : {S::online, S::listening, S::dead}) CHECK(noop(in(s), E::spawned, f));
}

// Spawning runs off the loop: a stop may come before the process exists.
TEST_CASE("a worker stopped before its spawn completed is watched, and gets its stop signal then",
          "[worker]") {
  WorkerLife stopped = after({E::stop}, plain());
  REQUIRE(stopped.state == S::disconnecting);
  auto d = decide(stopped, E::spawned, plain());
  CHECK(d.life == stopped);
  CHECK(exactly(d, {A::announce_spawn, A::watch_exit, A::read_output, A::send_stop_signal}));
  // With a channel the disconnect already waits on it: the channel is read.
  WorkerLife disconnected = after({E::stop}, node());
  CHECK(exactly(decide(disconnected, E::spawned, node()),
                {A::announce_spawn, A::watch_exit, A::read_output, A::start_channel}));
  // A spawn that failed meanwhile still ends the life, so the stop is answered.
  auto failed = decide(stopped, E::spawn_failed, plain());
  CHECK(failed.life.state == S::dead);
  CHECK(exactly(failed, {A::report_spawn_failure}));
}

TEST_CASE("online comes once, from spawning; auto waits quietly unless it must listen",
          "[worker]") {
  auto d = decide({}, E::online, node());
  CHECK(d.life.state == S::online);
  CHECK(exactly(d, {A::publish_online, A::arm_quiet_timer, A::probe_own_listen}));
  WorkerFacts must = node();
  must.must_listen = true;
  CHECK(exactly(decide({}, E::online, must), {A::publish_online, A::probe_own_listen}));
  // Only a Node worker that is not ready yet is looked at for a socket of its own.
  CHECK(!decide({}, E::online, plain(Ready::listening)).actions.has(A::probe_own_listen));
  CHECK(!decide({}, E::online, node(Ready::online)).actions.has(A::probe_own_listen));
  CHECK(decide({}, E::online, node(Ready::online)).life.ready);
  for (S s : {S::online, S::listening, S::disconnecting, S::dead})
    CHECK(noop(in(s), E::online, node()));
}

TEST_CASE("a quiet worker that asked for no server is ready without listening", "[worker]") {
  auto d = decide(in(S::online), E::quiet, node());
  CHECK(d.life.ready);
  CHECK(exactly(d, {A::log_no_server, A::become_ready}));
  WorkerLife asked = in(S::online);
  asked.asked_server = true;
  CHECK(noop(asked, E::quiet, node()));
  WorkerFacts must = node();
  must.must_listen = true;
  CHECK(noop(in(S::online), E::quiet, must));
  for (S s : {S::spawning, S::listening, S::disconnecting, S::dead})
    CHECK(noop(in(s), E::quiet, node()));
}

TEST_CASE("listening readies a worker of a listening or auto app, from online only", "[worker]") {
  for (Ready r : {Ready::automatic, Ready::listening}) {
    auto d = decide(in(S::online), E::listening, node(r));
    CHECK(d.life.state == S::listening);
    CHECK(exactly(d, {A::become_ready}));
  }
  auto d = decide(in(S::online), E::listening, node(Ready::notify));
  CHECK(d.life.state == S::listening);
  CHECK(!d.life.ready);
  for (S s : {S::spawning, S::disconnecting, S::dead}) CHECK(noop(in(s), E::listening, node()));
}

TEST_CASE("READY=1 moves an online worker to listening and readies a notify app", "[worker]") {
  auto d = decide(in(S::online), E::notified_ready, plain(Ready::notify));
  CHECK(d.life.state == S::listening);
  CHECK(d.life.ready);
  CHECK(decide(in(S::disconnecting), E::notified_ready, plain(Ready::notify)).life.state ==
        S::disconnecting);
  CHECK(noop(in(S::dead), E::notified_ready, plain(Ready::notify)));
}

TEST_CASE("STOPPING=1 starts the stop deadline of a running worker only", "[worker]") {
  for (S s : {S::online, S::listening}) {
    auto d = decide(in(s), E::stopping, plain());
    CHECK(d.life.state == S::disconnecting);
    CHECK(exactly(d, {A::arm_stop_timer}));
  }
  for (S s : {S::spawning, S::disconnecting, S::dead}) CHECK(noop(in(s), E::stopping, plain()));
}

TEST_CASE("ready_timeout kills a worker that is not ready, as a crash", "[worker]") {
  for (S s : {S::spawning, S::online, S::listening}) {
    auto d = decide(in(s), E::ready_timeout, plain(Ready::notify));
    CHECK(d.life.forced);
    CHECK(std::string(d.life.reason) == "did not become ready within ready_timeout");
    CHECK(exactly(d, {A::publish_ready_timeout, A::kill_crashed}));
  }
  WorkerLife ready = in(S::online);
  ready.ready = true;
  CHECK(noop(ready, E::ready_timeout, plain()));
  CHECK(noop(in(S::disconnecting), E::ready_timeout, plain()));
  CHECK(noop(in(S::dead), E::ready_timeout, plain()));
  // ready = "auto", online and never asked for a server: the quiet rule.
  auto quiet = decide(in(S::online), E::ready_timeout, node());
  CHECK(quiet.life.ready);
  CHECK(!quiet.life.forced);
}

TEST_CASE("a missed watchdog is a crash while the worker runs", "[worker]") {
  for (S s : {S::spawning, S::online, S::listening}) {
    auto d = decide(in(s), E::watchdog_timeout, plain());
    CHECK(d.life.forced);
    CHECK(exactly(d, {A::publish_watchdog, A::kill_crashed}));
    CHECK(std::string(d.why) == "missed its watchdog");
  }
  CHECK(noop(in(S::dead), E::watchdog_timeout, plain()));
}

// As systemd stops a service's watchdog once it leaves the running state: a
// worker asked to stop stops pinging as it finishes; stop_timeout bounds it.
TEST_CASE("a worker being stopped is not killed by its watchdog", "[worker]") {
  WorkerFacts f = plain();
  f.watchdog = true;
  WorkerLife stopping = after({E::spawned, E::stop}, f);
  REQUIRE(stopping.state == S::disconnecting);
  CHECK(noop(stopping, E::watchdog_timeout, f));
  CHECK(noop(stopping, E::watchdog_kept, f));
  WorkerFacts at_exit = f;
  at_exit.exit_signal.reset();
  CHECK(decide(stopping, E::exited, at_exit).life.voluntary);
}

TEST_CASE("an exit is judged by who asked the worker to go", "[worker]") {
  WorkerFacts f = node();
  auto own = decide(in(S::listening), E::exited, f);
  CHECK(own.life.state == S::dead);
  CHECK(!own.life.voluntary);
  CHECK(exactly(own, {A::cancel_timers, A::close_channel, A::kill_leftovers, A::report_exit}));
  WorkerLife stopped = after({E::online, E::stop, E::exited}, f);
  CHECK(stopped.voluntary);
  CHECK(stopped.after_disconnect);
  WorkerLife left = after({E::online, E::left_on_its_own, E::exited}, f);
  CHECK(left.voluntary);
  // A worker we killed for misbehaving crashed, whoever had asked it to go.
  WorkerLife forced = after({E::online, E::stop, E::channel_broken, E::exited}, f);
  CHECK(forced.forced);
  CHECK(!forced.voluntary);
  CHECK(noop(forced, E::exited, f));
}

TEST_CASE("an operator's signal makes the exit voluntary only if that signal ended it",
          "[worker]") {
  WorkerFacts sent = plain();
  sent.now = Clock::time_point(100s);
  sent.stop_timeout = 5s;
  sent.signo = SIGUSR2;
  WorkerLife l = decide(in(S::listening), E::operator_signal, sent).life;
  WorkerFacts at_exit = sent;
  at_exit.exit_signal = SIGSEGV;
  CHECK(!decide(l, E::exited, at_exit).life.voluntary);
  at_exit.exit_signal = SIGUSR2;
  CHECK(decide(l, E::exited, at_exit).life.voluntary);
  // SIGTERM asks it to end: an exit with a code within stop_timeout answers it.
  sent.signo = SIGTERM;
  l = decide(in(S::listening), E::operator_signal, sent).life;
  at_exit.exit_signal.reset();
  at_exit.now = Clock::time_point(104s);
  CHECK(decide(l, E::exited, at_exit).life.voluntary);
  at_exit.now = Clock::time_point(106s);
  CHECK(!decide(l, E::exited, at_exit).life.voluntary);
  CHECK(noop(in(S::dead), E::operator_signal, sent));
}

TEST_CASE("kill_now sends SIGKILL to a live worker without judging it", "[worker]") {
  for (S s : kLive) {
    auto d = decide(in(s), E::kill, plain());
    CHECK(exactly(d, {A::kill_group}));
    CHECK(d.life == in(s));
  }
  CHECK(noop(in(S::dead), E::kill, plain()));
}

TEST_CASE("EXTEND_TIMEOUT_USEC extends the deadline of the phase the worker is in", "[worker]") {
  for (S s : {S::spawning, S::online, S::listening})
    CHECK(exactly(decide(in(s), E::extend_timeout, plain()), {A::extend_ready_timer}));
  WorkerLife ready = in(S::listening);
  ready.ready = true;
  CHECK(noop(ready, E::extend_timeout, plain()));
  CHECK(exactly(decide(in(S::disconnecting), E::extend_timeout, plain()), {A::extend_stop_timer}));
  CHECK(noop(in(S::dead), E::extend_timeout, plain()));
}

TEST_CASE("WATCHDOG=1 re-arms the watchdog of a running worker of an app that has one",
          "[worker]") {
  WorkerFacts f = plain();
  CHECK(noop(in(S::listening), E::watchdog_kept, f));
  f.watchdog = true;
  for (S s : {S::spawning, S::online, S::listening})
    CHECK(exactly(decide(in(s), E::watchdog_kept, f), {A::arm_watchdog}));
  CHECK(noop(in(S::disconnecting), E::watchdog_kept, f));
  CHECK(noop(in(S::dead), E::watchdog_kept, f));
}

TEST_CASE("a spawn failure is a dead worker reported at once", "[worker]") {
  auto d = decide({}, E::spawn_failed, plain());
  CHECK(d.life.state == S::dead);
  CHECK(exactly(d, {A::report_spawn_failure}));
  for (S s : {S::online, S::listening, S::dead}) CHECK(noop(in(s), E::spawn_failed, plain()));
}

TEST_CASE("a dead worker decides nothing but the close of its channel", "[worker]") {
  for (std::size_t i = 0; i < kWorkerEvents; ++i) {
    auto e = static_cast<E>(i);
    INFO(to_string(e));
    if (e == E::channel_closed || e == E::channel_broken) continue;
    CHECK(noop(in(S::dead), e, node()));
  }
  for (E e : {E::channel_closed, E::channel_broken}) {
    auto d = decide(in(S::dead), e, node());
    CHECK(d.life == in(S::dead));
    CHECK(exactly(d, {A::leave_sockets, A::publish_disconnect}));
  }
}

TEST_CASE("every cell of the table is decided", "[worker]") {
  std::set<std::string> names;
  for (std::size_t i = 0; i < kWorkerEvents; ++i) {
    auto e = static_cast<E>(i);
    names.insert(to_string(e));
    for (S s : kStates) {
      INFO(to_string(e) << " in " << to_string(s));
      for (const WorkerFacts& f : {plain(), plain(Ready::notify), node(), node(Ready::spawn)}) {
        WorkerLife l = in(s);
        REQUIRE_NOTHROW(l = decide(in(s), e, f).life);
        // Nothing leaves the dead state; a life ends only by its exit or a failed spawn.
        if (s == S::dead) CHECK(l.state == S::dead);
        if (l.state == S::dead && s != S::dead) CHECK((e == E::exited || e == E::spawn_failed));
      }
    }
  }
  CHECK(names.size() == kWorkerEvents);
}
