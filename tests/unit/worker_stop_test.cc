// The worker's table (daemon/supervision/worker_decide.h): stop, disconnect, the
// channel's close, drains and their deadlines. The other cells:
// worker_decide_test.cc.
#include <catch2/catch.hpp>

#include <signal.h>

#include <string>

#include "tests/unit/worker_decide_support.h"

using namespace std::chrono_literals;
using namespace muster::test::worker;

namespace {

WorkerFacts killing() {
  WorkerFacts f = node();
  f.signal_after_disconnect = true;
  return f;
}

}  // namespace

TEST_CASE("stop without a channel sends stop_signal and arms the stop deadline, once", "[worker]") {
  for (S s : {S::spawning, S::online, S::listening}) {
    auto d = decide(in(s), E::stop, plain());
    CHECK(d.life.state == S::disconnecting);
    CHECK(d.life.stop_asked);
    CHECK(!d.life.after_disconnect);
    CHECK(exactly(d, {A::send_stop_signal, A::arm_stop_timer}));
    CHECK(noop(d.life, E::stop, plain()));
  }
  CHECK(noop(in(S::dead), E::stop, plain()));
}

TEST_CASE("stop with a channel is Node's disconnect", "[worker]") {
  auto d = decide(in(S::listening), E::stop, node());
  CHECK(d.life.after_disconnect);
  CHECK(exactly(d, {A::disconnect_channel, A::arm_stop_timer}));
}

// Node's worker.kill(): disconnect, then stop_signal once the channel closed.
TEST_CASE("a stop disconnects, then sends stop_signal when the channel closes", "[worker]") {
  auto d = decide(in(S::listening), E::stop, killing());
  CHECK(d.life.signal_on_close);
  CHECK(exactly(d, {A::disconnect_channel, A::arm_stop_timer}));
  auto closed = decide(d.life, E::channel_closed, node());
  CHECK(exactly(closed, {A::leave_sockets, A::publish_disconnect, A::send_stop_signal}));
  // A disconnect (Node's worker.disconnect()) sends no signal.
  WorkerLife disconnected = decide(in(S::listening), E::stop, node()).life;
  CHECK(!decide(disconnected, E::channel_closed, node()).actions.has(A::send_stop_signal));
  // A stop after that disconnect is a kill: the signal goes when the channel
  // closes, or at once if it has closed already.
  auto upgraded = decide(disconnected, E::stop, killing());
  CHECK(upgraded.life.signal_on_close);
  CHECK(upgraded.actions.empty());
  WorkerFacts closed_already = killing();
  closed_already.has_channel = false;
  CHECK(exactly(decide(disconnected, E::stop, closed_already), {A::send_stop_signal}));
  CHECK(noop(upgraded.life, E::stop, killing()));
}

TEST_CASE("stop() without a channel signals once, however often it is called", "[worker]") {
  WorkerFacts f = killing();
  f.has_channel = false;
  auto first = decide(in(S::online), E::stop, f);
  CHECK(exactly(first, {A::send_stop_signal, A::arm_stop_timer}));
  CHECK(noop(first.life, E::stop, f));
}

TEST_CASE("a stop of a worker lingering after its own disconnect sends stop_signal now",
          "[worker]") {
  WorkerLife own = after({E::online, E::left_on_its_own, E::channel_closed}, node());
  WorkerFacts gone = killing();
  gone.has_channel = false;
  CHECK(exactly(decide(own, E::stop, gone), {A::arm_stop_timer, A::send_stop_signal}));
}

TEST_CASE("stop while a worker leaves bounds only its own unbounded disconnect", "[worker]") {
  auto d = decide(in(S::disconnecting), E::stop, node());
  CHECK(d.life.stop_asked);
  CHECK(d.actions.empty());  // STOPPING=1 or a dropped channel: its deadline runs
  WorkerLife own = after({E::online, E::left_on_its_own, E::channel_closed}, node());
  REQUIRE(own.state == S::disconnecting);
  CHECK(exactly(decide(own, E::stop, node()), {A::arm_stop_timer}));
}

TEST_CASE("a closed channel ends the run: a stop deadline, or its own drain", "[worker]") {
  auto d = decide(in(S::listening), E::channel_closed, node());
  CHECK(d.life.state == S::disconnecting);
  CHECK(exactly(d, {A::leave_sockets, A::publish_disconnect, A::arm_stop_timer}));
  CHECK(exactly(decide(in(S::disconnecting), E::channel_closed, node()),
                {A::leave_sockets, A::publish_disconnect}));
  WorkerFacts drained = node();
  drained.drain_timeout = true;
  WorkerLife own = in(S::listening);
  own.after_disconnect = true;
  auto lingering = decide(own, E::channel_closed, drained);
  CHECK(lingering.life.state == S::disconnecting);
  CHECK(exactly(lingering, {A::leave_sockets, A::publish_disconnect, A::arm_drain_timer}));
}

TEST_CASE("a channel that breaks the protocol is a crash", "[worker]") {
  auto d = decide(in(S::online), E::channel_broken, node());
  CHECK(d.life.forced);
  CHECK(d.life.state == S::disconnecting);
  CHECK(exactly(d, {A::kill_crashed, A::leave_sockets, A::publish_disconnect, A::arm_stop_timer}));
}

// NodeChannel::fail() posts its close handler: the exit can be handled
// first, and by then the pid is reaped and may be someone else's.
TEST_CASE("a protocol error reported after the exit kills nothing", "[worker]") {
  WorkerLife dead = after({E::online, E::exited}, node());
  auto d = decide(dead, E::channel_broken, node());
  CHECK(d.life == dead);
  CHECK(exactly(d, {A::leave_sockets, A::publish_disconnect}));
}

TEST_CASE("stop_timeout kills a disconnecting worker only", "[worker]") {
  CHECK(exactly(decide(in(S::disconnecting), E::stop_timeout, plain()), {A::kill_stop_overdue}));
  for (S s : {S::spawning, S::online, S::listening, S::dead})
    CHECK(noop(in(s), E::stop_timeout, plain()));
}

TEST_CASE("closing its servers starts a drain only with drain_timeout; asking again ends it",
          "[worker]") {
  WorkerFacts f = node();
  CHECK(noop(in(S::listening), E::servers_closed, f));
  f.drain_timeout = true;
  auto d = decide(in(S::listening), E::servers_closed, f);
  CHECK(d.life.draining);
  CHECK(exactly(d, {A::arm_drain_timer}));
  auto again = decide(d.life, E::server_requested, f);
  CHECK(!again.life.draining);
  CHECK(exactly(again, {A::cancel_drain_timer}));
  // Its own disconnect is not undone by a request.
  WorkerLife own = decide(in(S::listening), E::left_on_its_own, f).life;
  CHECK(own.draining);
  CHECK(decide(own, E::server_requested, f).life.draining);
  // Being stopped, it has a stop deadline instead.
  WorkerLife stopping = in(S::online);
  stopping.stop_asked = true;
  CHECK(!decide(stopping, E::left_on_its_own, f).life.draining);
  CHECK(noop(in(S::disconnecting), E::servers_closed, f));
}

TEST_CASE("drain_timeout kills a draining worker, and its exit is voluntary", "[worker]") {
  WorkerFacts f = node();
  f.drain_timeout = true;
  WorkerLife draining = decide(in(S::listening), E::servers_closed, f).life;
  auto d = decide(draining, E::drain_timeout, f);
  CHECK(exactly(d, {A::kill_drain_overdue}));
  CHECK(std::string(d.life.reason) == "drain_timeout");
  f.exit_signal = SIGKILL;
  WorkerLife dead = decide(d.life, E::exited, f).life;
  CHECK(dead.voluntary);
  CHECK(!dead.forced);
  CHECK(noop(in(S::listening), E::drain_timeout, f));  // not draining: a stale timer
}
