// The daemon's one event loop, run so that no completion can end it. An
// exception escaping a handler used to leave io.run() and end musterd, and
// with it every worker (their parent-death signal): one bad completion, such
// as a std::bad_alloc while spawning, was a full outage. The handlers that can
// fail catch first and fail only their own request or app operation (a
// control request gets an error reply, a spawn counts as a failed start, an
// event or an output line is dropped); an exception that still escapes is
// logged here and the loop is entered again.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>

namespace muster::daemon {

// Runs `io` until it is stopped or runs out of work.
void run_event_loop(boost::asio::io_context& io);

// Exceptions that reached the loop's edge (muster_loop_exceptions_total).
std::uint64_t loop_exceptions();

}  // namespace muster::daemon
