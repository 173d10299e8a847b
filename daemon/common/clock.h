// The clock of supervision: every time Worker and App read or wait for
// (backoff, jitter, min_uptime, restart_window, failed_retry, ready_timeout,
// stop_timeout, drain_timeout, the start settle) is on this clock, and every
// timer of theirs is a Timer on it.
//
// In musterd it is steady_clock: the offset below is never moved, so now() is
// steady_clock::now() + 0 and a Timer waits as a steady_timer does. Unit tests
// move the offset forward (tests/unit/manual_clock.h) and then run the
// io_context's ready handlers: the timers that have come due fire, without a
// test ever sleeping. Its time_point is steady_clock's (the standard allows a
// clock to share another's epoch and time_point), so code that mixes it with
// steady_timer deadlines keeps compiling and meaning the same.
#pragma once

#include <algorithm>
#include <atomic>
#include <boost/asio/basic_waitable_timer.hpp>
#include <chrono>
#include <cstdint>

namespace muster::daemon {

struct Clock {
  using base = std::chrono::steady_clock;
  using duration = base::duration;
  using rep = base::rep;
  using period = base::period;
  using time_point = base::time_point;
  static constexpr bool is_steady = true;

  static time_point now() noexcept {
    return base::now() + duration(offset.load(std::memory_order_relaxed));
  }

  // Tests only: how far this clock is ahead of steady_clock. Only ever grows.
  static inline std::atomic<rep> offset{0};
};

// A timer on Clock (for Worker and App: see above).
using Timer = boost::asio::basic_waitable_timer<Clock>;

// How long until `when`, in D; zero for a time already past.
template <class D>
D time_left(Clock::time_point when, Clock::time_point now) {
  return std::max(std::chrono::duration_cast<D>(when - now), D{0});
}

}  // namespace muster::daemon
