// musterd adopts and reaps what its workers leave behind. It makes itself a
// child subreaper (PR_SET_CHILD_SUBREAPER), so a worker's descendants that
// lose their parent are re-parented to musterd instead of to init, and it
// reaps them when they exit -- as PID 1 of a container nobody else would, and
// they would stay zombies. Workers themselves are never waited for here: each
// is reaped through its own pidfd (ProcessLauncher::watch_exit), and a catch-all
// waitpid(-1) would steal those exits (STYLE.md). So the reaper
// peeks (waitid WNOWAIT) and reaps only pids that no worker owns.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>

namespace muster::daemon {

class ProcessLauncher;

class OrphanReaper {
 public:
  // `launcher` says which processes are a worker's own, to be left to its
  // exit watch: owned from spawn until their exit has been collected.
  OrphanReaper(boost::asio::io_context& io, const ProcessLauncher& launcher);

  // Adopted processes reaped so far.
  std::uint64_t reaped() const { return reaped_; }

 private:
  void wait_signal();
  void reap();

  const ProcessLauncher& launcher_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer retry_;
  bool retry_armed_ = false;
  std::uint64_t reaped_ = 0;
};

}  // namespace muster::daemon
