// A thread that starts processes, so that the event loop never waits for a
// child to exec. spawn() (daemon/spawn.cc) suspends its caller until the child
// has exec'd or failed: done on the loop, 1000 workers starting held it for
// tens of milliseconds at a time (bench/RESULTS.md, "Spawning off the loop").
// The thread lives as long as musterd: a worker's parent-death signal
// (PR_SET_PDEATHSIG) fires when the *thread* that cloned it ends.
#pragma once

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "daemon/spawn.h"
#include "ipc/unique_fd.h"

namespace muster::daemon {

class Spawner {
 public:
  using Started = std::variant<pid_t, std::string>;
  using Done = std::function<void(Started)>;

  explicit Spawner(boost::asio::io_context& io);
  ~Spawner();  // after the loop has stopped: drops what was not started
  Spawner(const Spawner&) = delete;
  Spawner& operator=(const Spawner&) = delete;

  // Starts `spec`'s process on the thread; `done` runs on the loop with its
  // pid or the error. The fds `spec` names are copied now (close-on-exec), so
  // the caller may close its own as soon as this returns.
  void submit(const SpawnSpec& spec, Done done);

 private:
  struct Job {
    SpawnSpec spec;                 // naming the copies below
    std::vector<ipc::UniqueFd> held;
    Done done;
  };
  void run();

  boost::asio::io_context& io_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace muster::daemon
