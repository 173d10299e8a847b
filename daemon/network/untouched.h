// Whether an accepted TCP connection is still as the kernel handed it over:
// nobody has read from it or written to it. A connection handed to a worker
// that died before touching it can then go to another worker, and the client
// cannot tell (it only saw a slower accept).
#pragma once

namespace muster::daemon {

// From the kernel's byte counters (TCP_INFO, SIOCINQ). False when unknown
// (not TCP, or an old kernel): the caller must then assume it was touched.
bool connection_untouched(int fd);

}  // namespace muster::daemon
