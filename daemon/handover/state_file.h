// musterd's state as it crosses an in-place upgrade (issue 25): one sealed
// memfd holding a JSON envelope around the state body. The old musterd
// writes it, keeps it open across execve() and the new one reads it before
// doing anything else; a memfd needs no file system (musterd may run with a
// read-only root), vanishes with its last fd, and once sealed neither side
// can change what the other reads.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"
#include "ipc/unique_fd.h"

namespace muster::daemon::handover {

// The envelope's and the body's layout. A musterd that changes either
// raises it and keeps reading the older formats it can, and says which it
// reads in --upgrade-info (binary_check.h), so that the old musterd refuses
// to hand over to a binary that could not read its state.
inline constexpr int kStateFormat = 1;
// A bound on what the reader allocates: far above any real state (a worker
// is a few hundred bytes), far below what would hurt the machine.
inline constexpr std::size_t kMaxStateBytes = std::size_t{64} << 20;

struct StateEnvelope {
  int format = 0;
  std::string from_version;  // the musterd that wrote it
  boost::json::value body;
};

// A sealed memfd, rewound, holding {"muster_state": kStateFormat,
// "from_version": from_version, "body": body}. Close-on-exec: the caller
// clears it on purpose when it execs (exec_handover.h).
Result<ipc::UniqueFd> write_state_file(const boost::json::value& body,
                                       std::string_view from_version);

// The envelope in `fd`, read from offset 0 whatever its file position; an
// error naming what is wrong: too large, not JSON, a field missing or of
// the wrong type, or a format this musterd does not read.
Result<StateEnvelope> read_state_file(int fd);

}  // namespace muster::daemon::handover
