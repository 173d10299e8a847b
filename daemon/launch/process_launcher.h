// musterd's Launcher: real processes.
//  - spawn(): daemon/launch/spawn.cc (clone with CLONE_VM | CLONE_VFORK, then exec),
//    run on the Spawner's thread (daemon/launch/spawner.h) so the loop never waits
//    for a child to exec.
//  - the exit watch: a pidfd per process, read with waitid(P_PIDFD, WNOHANG).
//  - the orphan reaper's bookkeeping: which pids are owned (spawned and not
//    yet collected), so that OrphanReaper (daemon/launch/orphan_reaper.h) reaps only
//    what no worker owns, and never a worker's exit behind its watch's back.
// Why not Boost.Process v2's process handle for the watch and the signals:
// docs/ARCHITECTURE.md, "Processes: the launcher seam".
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <unordered_set>

#include "daemon/launch/launcher.h"
#include "daemon/launch/spawner.h"

namespace muster::daemon {

class ProcessLauncher final : public Launcher {
 public:
  explicit ProcessLauncher(boost::asio::io_context& io,
                           Spawner::Mode mode = Spawner::Mode::own_thread)
      : io_(io), spawner_(io, mode) {}

  void spawn(const SpawnSpec& spec, SpawnDone done) override;
  Result<void> adopt(pid_t pid) override;
  Result<void> watch_exit(pid_t pid, ExitHandler done) override;
  int signal(pid_t pid, int signo, SignalTarget target) override;
  void release(pid_t pid) override { owned_.erase(pid); }
  void run_on_spawning_thread(const std::function<void()>& task) override {
    spawner_.run_on_thread(task);
  }
  // Spawner::Mode::caller: musterd's main thread spawns (spawner.h says why).
  void run_spawner_here() { spawner_.run_here(); }
  void stop_spawner() { spawner_.stop(); }

  // Spawned and not yet collected or released, or maybe so: while a spawn
  // is under way its child's pid is not known on the loop yet, so every pid
  // may be one. The orphan reaper leaves such a pid for now.
  bool owns(pid_t pid) const { return in_flight_ > 0 || owned_.count(pid) != 0; }

 private:
  Started own(Started started, const std::string& executable);

  boost::asio::io_context& io_;
  // Touched only from the event loop's thread.
  std::unordered_set<pid_t> owned_;
  unsigned in_flight_ = 0;  // spawns handed to the thread, not answered yet
  // The loop has work while a spawn is under way (its answer is posted).
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  Spawner spawner_;  // last: its thread ends before the rest goes
};

}  // namespace muster::daemon
