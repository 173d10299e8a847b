#include "daemon/launch/orphan_reaper.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <spdlog/spdlog.h>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "daemon/launch/process_launcher.h"

namespace muster::daemon {

OrphanReaper::OrphanReaper(boost::asio::io_context& io, const ProcessLauncher& launcher)
    : launcher_(launcher), signals_(io, SIGCHLD), retry_(io) {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
    spdlog::warn("cannot become a child subreaper ({}); orphans of workers go to init",
                 std::strerror(errno));
  wait_signal();
  reap();  // anything that exited before we listened
}

void OrphanReaper::wait_signal() {
  signals_.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    reap();
    wait_signal();
  });
}

// Reaps every exited child that no worker owns. waitid(WNOWAIT) shows one
// exited child without reaping it; if that is a worker whose handle has not
// collected it yet, the ones behind it are looked at again shortly (SIGCHLD
// does not queue, so no later signal may come for them).
void OrphanReaper::reap() {
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid == 0) return;
    pid_t pid = info.si_pid;
    if (launcher_.owns(pid)) {
      if (retry_armed_) return;
      retry_armed_ = true;
      retry_.expires_after(std::chrono::milliseconds(20));
      retry_.async_wait([this](boost::system::error_code ec) {
        retry_armed_ = false;
        if (!ec) reap();
      });
      return;
    }
    if (::waitpid(pid, nullptr, WNOHANG) == pid) {
      ++reaped_;
      spdlog::debug("reaped orphaned process {}", pid);
    }
  }
}

}  // namespace muster::daemon
