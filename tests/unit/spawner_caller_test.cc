// The Spawner in musterd's mode (Mode::caller, daemon/launch/spawner.h):
// jobs run on the thread that calls run_here(), and run_on_thread() runs a
// task there and waits for it: where an in-place upgrade's exec must happen,
// since a worker's parent-death signal follows the thread that cloned it.
#include <catch2/catch.hpp>

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <thread>

#include "daemon/launch/spawner.h"

using namespace muster;

TEST_CASE("Mode::caller runs spawns and tasks on the thread that runs it", "[spawner]") {
  boost::asio::io_context io;
  daemon::Spawner spawner(io, daemon::Spawner::Mode::caller);
  const pid_t here = static_cast<pid_t>(::syscall(SYS_gettid));
  pid_t task_ran_on = 0, loop_thread = 0;
  pid_t child = 0;
  std::thread loop([&] {
    loop_thread = static_cast<pid_t>(::syscall(SYS_gettid));
    daemon::SpawnSpec spec;
    spec.executable = "/bin/true";

    spawner.submit(spec, [&](daemon::Spawner::Started started) {
      child = started ? *started : -1;
      // The loop waits here until the task has run on the spawning thread.
      spawner.run_on_thread([&] { task_ran_on = static_cast<pid_t>(::syscall(SYS_gettid)); });
      spawner.stop();
    });
    io.run_for(std::chrono::seconds(10));
  });
  spawner.run_here();  // until stop()
  loop.join();
  REQUIRE(child > 0);
  int status = 0;
  CHECK(::waitpid(child, &status, 0) == child);
  CHECK(task_ran_on == here);
  CHECK(loop_thread != here);
}
