#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "daemon/launch/spawn.h"

using muster::daemon::spawn;
using muster::daemon::SpawnSpec;

namespace {

// What `readlink /proc/self/fd/0` says in a worker spawned while this
// process's fd 0 is closed (as in a musterd started without a stdin).
std::string stdin_of_worker_spawned_without_fd0() {
  char dir[] = "/tmp/muster-spawn-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::string out = std::string(dir) + "/stdin";
  SpawnSpec spec;
  spec.executable = "/bin/sh";
  spec.args = {"-c", "readlink /proc/self/fd/0 > " + out};
  spec.env = {"PATH=/usr/bin:/bin"};
  int saved = ::fcntl(0, F_DUPFD_CLOEXEC, 10);
  ::close(0);
  auto result = spawn(spec);  // its /dev/null is opened as fd 0
  if (saved >= 0) {
    ::dup2(saved, 0);
    ::close(saved);
  }
  REQUIRE(result.ok());
  pid_t pid = *result;
  ::waitpid(pid, nullptr, 0);
  std::ifstream f(out);
  std::stringstream text;
  text << f.rdbuf();
  ::unlink(out.c_str());
  ::rmdir(dir);
  return text.str();
}

}  // namespace

TEST_CASE("a worker's stdin is /dev/null even when that is opened as fd 0 itself") {
  // dup2(0, 0) would leave close-on-exec on it: the worker had no stdin.
  CHECK(stdin_of_worker_spawned_without_fd0() == "/dev/null\n");
}
