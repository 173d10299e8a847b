// musterctl's exit codes. Part of the user contract (SPEC.md): keep them stable.
#pragma once

namespace muster::cli {

enum ExitCode : int {
  kExitOk = 0,           // done
  kExitFailed = 1,       // musterd answered ok:false (reason on stderr)
  kExitUsage = 2,        // bad command line, or `check` found config errors
  kExitUnreachable = 3,  // no reply: cannot connect, or the connection was lost
};

}  // namespace muster::cli
