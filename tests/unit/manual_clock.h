// Time that a test moves: advance(io, d) puts daemon::Clock d further on and
// runs every handler that is then ready, the Timers that have come due with
// them (daemon/common/clock.h). No test sleeps; a whole backoff sequence takes
// microseconds of real time.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>

#include "daemon/common/clock.h"

namespace muster::test {

// Runs what is ready now: posted handlers, and the timers already due. A timer
// due only because the clock was moved is noticed by asio's reactor only when
// its timerfd is re-armed; a timer at the earliest possible time re-arms it,
// and waiting for that one handler to run costs microseconds of real time.
inline void run_ready(boost::asio::io_context& io) {
  for (int round = 0; round < 1000; ++round) {
    io.restart();
    bool poked = false;
    daemon::Timer poke(io);
    poke.expires_at(daemon::Clock::time_point::min());
    poke.async_wait([&](boost::system::error_code) { poked = true; });
    std::size_t ran = 0;
    while (!poked && io.run_one_for(std::chrono::seconds(1)) > 0) ++ran;
    ran += io.poll();
    if (ran <= 1) return;  // only the poke itself: nothing else was ready
  }
}

// Moves the clock forward by `by` and runs what comes due.
inline void advance(boost::asio::io_context& io, daemon::Clock::duration by) {
  daemon::Clock::offset.fetch_add(by.count());
  run_ready(io);
}

}  // namespace muster::test
