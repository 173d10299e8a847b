// A thread that starts processes, so that the event loop never waits for a
// child to exec. spawn() (daemon/launch/spawn.cc) suspends its caller until the child
// has exec'd or failed: done on the loop, 1000 workers starting held it for
// tens of milliseconds at a time (bench/RESULTS.md, "Spawning off the loop").
// The thread lives as long as musterd: a worker's parent-death signal
// (PR_SET_PDEATHSIG) fires when the *thread* that cloned it ends. In musterd
// that thread is the main thread (Mode::caller: main() runs run_here() and
// the event loop runs on a thread of its own), because an in-place upgrade
// (issue 25) execs, and exec ends every thread but the one calling it: the
// workers live on only if that thread is the one that cloned them, before
// and after any number of upgrades. The thread that execs must be the main
// thread for the same reason after the exec: it is the new binary's main
// thread, whose children the adopted workers are.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/launch/spawn.h"
#include "ipc/unique_fd.h"

namespace muster::daemon {

// Out of memory on the thread must not end musterd: a job is allocated on the
// loop (where running out is caught and handled), moves between the lists
// below by splicing (no allocation), carries its out-of-memory message ready
// made, and the loop learns of finished jobs through an eventfd (a write, no
// allocation), not a posted handler.
class Spawner {
 public:
  using Started = Result<pid_t>;
  using Done = std::function<void(Started)>;

  enum class Mode {
    own_thread,  // a thread of its own, started here (tests, tools)
    caller,      // the thread that calls run_here() (musterd's main thread)
  };
  explicit Spawner(boost::asio::io_context& io, Mode mode = Mode::own_thread);
  ~Spawner();  // after the loop has stopped: drops what was not started
  Spawner(const Spawner&) = delete;
  Spawner& operator=(const Spawner&) = delete;

  // Starts `spec`'s process on the thread; `done` runs on the loop with its
  // pid or the error. The fds `spec` names are copied now (close-on-exec), so
  // the caller may close its own as soon as this returns.
  void submit(const SpawnSpec& spec, Done done);

  // Mode::caller: starts jobs on the calling thread until stop(); the
  // calling thread should block every signal (the loop's thread takes them).
  void run_here();
  // Ends run_here() (from any thread) once the job at hand is done.
  void stop();
  // Runs `task` on the spawning thread and waits, blocking the caller, until
  // it has returned: an in-place upgrade's exec (exec_handover.h says why it
  // must be that thread). Nothing else of the loop runs meanwhile, which is
  // what the exec wants: the state it writes stays the state. `task` must not
  // throw; it may not return at all (a successful exec).
  void run_on_thread(const std::function<void()>& task);

 private:
  struct Job {
    SpawnSpec spec;                               // naming the copies below
    const std::function<void()>* task = nullptr;  // run_on_thread's instead of a spawn
    std::vector<ipc::UniqueFd> held;
    Done done;
    std::string out_of_memory;   // the error if spawn() runs out of memory
    Started started = pid_t{0};  // the result, set on the thread
  };
  void run();
  void watch();    // the loop: waits for finished jobs
  void deliver();  // the loop: runs their `done`
  void signal_finished();

  boost::asio::io_context& io_;
  ipc::UniqueFd finished_fd_;  // an eventfd: the thread finished a job
  boost::asio::posix::stream_descriptor finished_watch_;
  bool watching_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::list<Job> jobs_;      // to start (mutex_)
  std::list<Job> finished_;  // started or failed, not yet delivered (mutex_)
  bool quit_ = false;
  bool task_done_ = false;  // run_on_thread's task has returned (mutex_)
  std::condition_variable task_returned_;
  std::thread thread_;  // Mode::own_thread
};

}  // namespace muster::daemon
