// What musterd makes sure of about its own process before it does anything
// else: the standard descriptors are open, and the kernel has the system
// calls it cannot do without.
#pragma once

#include <string>

#include "base/result.h"

namespace muster::daemon {

// Opens /dev/null on whichever of fds 0, 1 and 2 is closed. Started without
// them (a careless init script, `musterd <&-`), musterd's own sockets would
// take those numbers: its log (fd 2) would go to a client's connection, and
// the /dev/null a worker gets as stdin would be fd 0 already.
void fill_standard_fds();

// Linux 5.11 or later: close_range(CLOSE_RANGE_CLOEXEC) (5.11), pidfd_open
// (5.3) and waitid(P_PIDFD) (5.4), each probed (a backport counts). Done,
// or the error refusing to start, naming what is missing and the kernel.
Result<void> missing_kernel_features();

}  // namespace muster::daemon
