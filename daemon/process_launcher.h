// musterd's Launcher: real processes.
//  - spawn(): daemon/spawn.cc (clone with CLONE_VM | CLONE_VFORK, then exec).
//  - the exit watch: a pidfd per process, read with waitid(P_PIDFD, WNOHANG).
//  - the orphan reaper's bookkeeping: which pids are owned (spawned and not
//    yet collected), so that OrphanReaper (daemon/orphan_reaper.h) reaps only
//    what no worker owns, and never a worker's exit behind its watch's back.
// Why not Boost.Process v2's process handle for the watch and the signals:
// docs/ARCHITECTURE.md, "Processes: the launcher seam".
#pragma once

#include <boost/asio/io_context.hpp>
#include <unordered_set>

#include "daemon/launcher.h"

namespace muster::daemon {

class ProcessLauncher final : public Launcher {
 public:
  explicit ProcessLauncher(boost::asio::io_context& io) : io_(io) {}

  Started spawn(const SpawnSpec& spec) override;
  std::optional<std::string> watch_exit(pid_t pid, ExitHandler done) override;
  int signal(pid_t pid, int signo, SignalTarget target) override;
  void release(pid_t pid) override { owned_.erase(pid); }

  // Spawned and not yet collected or released: the orphan reaper leaves it.
  bool owns(pid_t pid) const { return owned_.count(pid) != 0; }

 private:
  boost::asio::io_context& io_;
  // Touched only from the event loop's thread.
  std::unordered_set<pid_t> owned_;
};

}  // namespace muster::daemon
