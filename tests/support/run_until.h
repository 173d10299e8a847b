// Driving an io_context in a unit test with a bound: until a condition holds,
// or for a while to show that nothing happens.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>

namespace muster::testing {

// Runs the loop until `done` holds, for at most `limit` of real time (or
// until the loop has nothing left to do). Returns done().
template <typename Done>
bool run_until(boost::asio::io_context& io, Done done,
               std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < until) {
    io.restart();
    if (io.run_one_for(std::chrono::milliseconds(20)) == 0 && io.stopped()) break;
  }
  return done();
}

// Runs whatever is ready for `time`: a window for a handler that must not run.
inline void run_for(boost::asio::io_context& io,
                    std::chrono::milliseconds time = std::chrono::milliseconds(50)) {
  io.restart();
  io.run_for(time);
}

}  // namespace muster::testing
