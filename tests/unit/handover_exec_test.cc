// The exec of an in-place upgrade (daemon/handover/exec_handover.h), for
// real: each case forks a child that execs (or crashes) and the parent
// watches what it did, every wait bounded and every child reaped.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "daemon/handover/exec_handover.h"

using muster::daemon::handover::arm_crash_fallback;
using muster::daemon::handover::disarm_crash_fallback;
using muster::daemon::handover::exec_replacing;
using muster::daemon::handover::ExecPlan;
using muster::daemon::handover::open_own_executable;
using muster::ipc::UniqueFd;

namespace {

constexpr int kBoundMs = 10000;
constexpr int kReturned = 101;  // a child whose exec returned

// Runs `body` in a forked child, which never returns into the test. The
// child starts with the default fault actions, as musterd has them (Catch2
// has its own, which would report the child's crash as this case's).
template <class Body>
pid_t in_child(Body body) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    for (int signo : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) ::signal(signo, SIG_DFL);
    body();
    ::_exit(kReturned);
  }
  return pid;
}

// The child's wait status, after at most kBoundMs (then it is killed, reaped
// and the case fails).
int wait_child(pid_t pid) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  pollfd ready{pidfd, POLLIN, 0};
  int r = pidfd >= 0 ? ::poll(&ready, 1, kBoundMs) : -1;
  if (pidfd >= 0) ::close(pidfd);
  if (r <= 0) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(r > 0);
  return status;
}

// Everything until end of file, or what came within kBoundMs.
std::string read_to_end(int fd) {
  std::string out;
  char buf[256];
  for (;;) {
    pollfd ready{fd, POLLIN, 0};
    if (::poll(&ready, 1, kBoundMs) != 1) return out;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

struct Pipe {
  Pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
  UniqueFd read, write;
};

bool cloexec(int fd) { return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

// The shell writing "ok" to `fd` (quietly failing if it was not passed).
ExecPlan echo_ok(int fd) {
  return {"/bin/sh", -1, {"sh", "-c", "exec 2>/dev/null; echo ok >&" + std::to_string(fd)}, {}};
}

struct Ran {
  std::string output;  // what it wrote into the pipe
  int status;          // its wait status
};

// A child that carries out `plan`, writing into `pipe`.
Ran run_exec(Pipe& pipe, const ExecPlan& plan) {
  pid_t pid = in_child([&] { exec_replacing(plan); });
  pipe.write.reset();
  std::string output = read_to_end(pipe.read.get());
  return {output, wait_child(pid)};
}

// A crashing child leaves no core file behind in the test's directory.
void no_core() {
  rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
}

}  // namespace

TEST_CASE("exec_replacing runs the binary with a kept fd inherited", "[handover]") {
  Pipe pipe;
  auto plan = echo_ok(pipe.write.get());
  plan.keep_fds = {pipe.write.get()};
  auto ran = run_exec(pipe, plan);
  CHECK(ran.output == "ok\n");
  CHECK((WIFEXITED(ran.status) && WEXITSTATUS(ran.status) == 0));
}

TEST_CASE("exec_replacing passes no close-on-exec fd it was not asked to keep", "[handover]") {
  Pipe pipe;
  auto ran = run_exec(pipe, echo_ok(pipe.write.get()));
  CHECK(ran.output.empty());
  CHECK((WIFEXITED(ran.status) && WEXITSTATUS(ran.status) != 0 &&
         WEXITSTATUS(ran.status) != kReturned));
}

TEST_CASE("exec_replacing executes exe_fd rather than the path", "[handover]") {
  Pipe pipe;
  UniqueFd sh(::open("/bin/sh", O_PATH | O_CLOEXEC));
  REQUIRE(sh);
  auto plan = echo_ok(pipe.write.get());
  plan.path = "/nonexistent/musterd";
  plan.exe_fd = sh.get();
  plan.keep_fds = {pipe.write.get()};
  auto ran = run_exec(pipe, plan);
  CHECK(ran.output == "ok\n");
  CHECK((WIFEXITED(ran.status) && WEXITSTATUS(ran.status) == 0));
}

TEST_CASE("a failed exec_replacing names the binary and errno and restores each fd's flags",
          "[handover]") {
  Pipe pipe;
  UniqueFd inheritable(::dup(pipe.read.get()));  // dup(): no FD_CLOEXEC
  REQUIRE(inheritable);
  ExecPlan plan{"/nonexistent/musterd", -1, {"musterd"}, {pipe.write.get(), inheritable.get()}};
  auto error = exec_replacing(plan);
  CHECK(error.errno_value == ENOENT);
  CHECK_THAT(error.message, Catch::StartsWith("cannot execute '/nonexistent/musterd': "));
  CHECK(cloexec(pipe.write.get()));
  CHECK_FALSE(cloexec(inheritable.get()));
}

TEST_CASE("exec_replacing refuses an fd that is not open, before any exec", "[handover]") {
  Pipe pipe;
  ExecPlan plan{"/bin/true", -1, {"true"}, {pipe.write.get(), 999999}};
  auto error = exec_replacing(plan);
  CHECK(error.errno_value == EBADF);
  CHECK_THAT(error.message, Catch::StartsWith("cannot pass fd 999999 to '/bin/true': "));
  CHECK(cloexec(pipe.write.get()));
}

TEST_CASE("open_own_executable opens the running binary O_PATH and close-on-exec", "[handover]") {
  auto exe = open_own_executable();
  REQUIRE(exe.ok());
  CHECK((::fcntl(exe->get(), F_GETFL) & O_PATH) != 0);
  CHECK(cloexec(exe->get()));
  char fd_target[4096] = {}, self[4096] = {};
  std::string link = "/proc/self/fd/" + std::to_string(exe->get());
  REQUIRE(::readlink(link.c_str(), fd_target, sizeof fd_target - 1) > 0);
  REQUIRE(::readlink("/proc/self/exe", self, sizeof self - 1) > 0);
  CHECK(std::string(fd_target) == std::string(self));
}

namespace {

// A child that arms the fallback (sh exiting 42), maybe disarms it, then
// crashes with `crash`; its wait status.
template <class Crash>
int crash_with_fallback(bool disarm, Crash crash) {
  UniqueFd sh(::open("/bin/sh", O_PATH | O_CLOEXEC));
  REQUIRE(sh);
  pid_t pid = in_child([&] {
    no_core();
    if (!arm_crash_fallback(sh.get(), {"sh", "-c", "exit 42"})) ::_exit(102);
    if (disarm) disarm_crash_fallback();
    crash();
  });
  return wait_child(pid);
}

bool exited_42(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 42; }

// Deep enough to overflow any stack; the volatile keeps each frame real.
int recurse(int depth) {
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  if (frame[0] == 0 && depth < 0) return frame[0];
  return recurse(depth + 1) + frame[0];
}

}  // namespace

TEST_CASE("the crash fallback executes its binary when a fault signal arrives", "[handover]") {
  int signo = GENERATE(SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT);
  CAPTURE(signo);
  CHECK(exited_42(crash_with_fallback(false, [&] { ::raise(signo); })));
}

TEST_CASE("the crash fallback catches a real memory fault and abort()", "[handover]") {
  // A store to a page mapped PROT_NONE: a real SIGSEGV from the MMU, which
  // UBSan (scripts/sanitize) does not intercept as it would a null pointer.
  CHECK(exited_42(crash_with_fallback(false, [] {
    void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) ::_exit(3);
    *static_cast<volatile char*>(page) = 1;
  })));
  CHECK(exited_42(crash_with_fallback(false, [] { ::abort(); })));
}

TEST_CASE("the crash fallback catches a stack overflow", "[handover]") {
  CHECK(exited_42(crash_with_fallback(false, [] { recurse(0); })));
}

TEST_CASE("a disarmed crash fallback leaves the fault to kill the process", "[handover]") {
  int status = crash_with_fallback(true, [] { ::raise(SIGSEGV); });
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV));
}

TEST_CASE("a crash fallback whose exec fails dies of the original signal", "[handover]") {
  UniqueFd not_a_binary(::open("/dev/null", O_PATH | O_CLOEXEC));
  REQUIRE(not_a_binary);
  pid_t pid = in_child([&] {
    no_core();
    if (!arm_crash_fallback(not_a_binary.get(), {"null"})) ::_exit(102);
    ::raise(SIGBUS);
  });
  int status = wait_child(pid);
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS));
}

TEST_CASE("arming the crash fallback without a binary is refused", "[handover]") {
  CHECK_FALSE(arm_crash_fallback(-1, {"sh"}).ok());
  CHECK_FALSE(arm_crash_fallback(0, {}).ok());
}
