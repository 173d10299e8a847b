// Before an in-place upgrade (issue 25) the old musterd asks the new binary
// what it is: `PATH --upgrade-info` prints one JSON line, its version and the
// state formats it reads. A binary that does not run, does not answer in
// time, or cannot read the state this musterd writes is refused before
// anything crosses an exec: the upgrade then fails with the reason and
// nothing has changed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "base/result.h"
#include "daemon/handover/upgrade_info.h"
#include "daemon/launch/launcher.h"

namespace muster::daemon::handover {

using BinaryChecked = std::function<void(Result<BinaryInfo>)>;

// Runs `path --upgrade-info` through `launcher` (with musterd's own
// environment, which the new binary will have after the exec) without
// blocking the loop, and calls `done` once, from the loop: the binary's
// answer if it exited 0 with one well-formed line naming kStateFormat among
// its formats, else the error saying what happened (could not start, exited
// non-zero or was killed, with the first line of its stderr; printed no or
// bad JSON; no state format in common; no answer within `bound`: then its
// process group was killed). When `done` runs the process has been reaped.
// `launcher` must outlive the check.
void check_binary(boost::asio::io_context& io, Launcher& launcher, std::string path,
                  std::chrono::milliseconds bound, BinaryChecked done);

}  // namespace muster::daemon::handover
