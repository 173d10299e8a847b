// Error text for a failed system call, with what an operator needs to act.
#pragma once

#include <string>

namespace muster::daemon {

// strerror(err); for EMFILE also the RLIMIT_NOFILE soft limit, the number an
// operator has to raise (LimitNOFILE=, ulimit -n), since "Too many open
// files" alone does not say which limit was hit.
std::string describe_errno(int err);

}  // namespace muster::daemon
