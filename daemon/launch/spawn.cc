#include "daemon/launch/spawn.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace muster::daemon {
namespace {

// Code that runs in the child, on a stack AddressSanitizer does not know:
// not instrumented (under ASan a noreturn call there, _exit, is reported as
// "ignoring requested __asan_handle_no_return", which scripts/sanitize counts).
#define MUSTER_IN_CHILD __attribute__((no_sanitize("address")))

// The child setup works on fixed arrays (no allocation in the child).
constexpr std::size_t kMaxPassFds = 16;
// The child runs on a stack of its own until exec (it shares the daemon's
// memory); the setup below needs a few KiB.
constexpr std::size_t kChildStack = 128 * 1024;

// Everything the child needs, prepared by the daemon: between clone and exec
// the child shares the daemon's memory, so it only reads this, writes
// `error`, and calls the kernel.
struct ChildPlan {
  const char* executable;
  char* const* argv;
  char* const* envp;  // points into a block the child may write (LISTEN_PID)
  const char* cwd;    // nullptr: keep the daemon's
  int stdio[3];
  const std::pair<int, int>* pass_fds;
  std::size_t pass_count;
  const Credentials* credentials;
  bool set_listen_pid;
  pid_t parent;
  volatile int error = 0;  // errno of the step that failed; 0: exec'd
};

// LISTEN_PID must be the worker's own pid, known only in the child: it
// overwrites the placeholder digits in the environment block prepared for it.
MUSTER_IN_CHILD void write_listen_pid(char* const* env) {
  for (; *env; ++env) {
    if (std::strncmp(*env, "LISTEN_PID=", 11) != 0) continue;
    char* digits = *env + 11;
    char buf[16];
    int n = 0;
    for (pid_t pid = ::getpid(); pid > 0 && n < 15; pid /= 10) buf[n++] = char('0' + pid % 10);
    if (n > static_cast<int>(std::strlen(kListenPidPlaceholder))) return;
    for (int i = 0; i < n; ++i) digits[i] = buf[n - 1 - i];
    digits[n] = '\0';
    return;
  }
}

// Signal handlers are the daemon's code: one running in the child before
// exec would act on the daemon's memory. The daemon blocks every signal
// around clone; the child sets each handled one back to default before it
// unblocks them (exec would reset them anyway). An ignored disposition
// survives exec, so every ignored one goes back to default too: those musterd
// ignores itself (SIGPIPE, SIGXFSZ: daemon/common/signals.h) and any it inherited
// (nohup's SIGHUP, a shell's SIGINT and SIGQUIT for a background job). A
// worker starts as from a fresh login: every disposition default, no signal
// blocked.
MUSTER_IN_CHILD void reset_signals() {
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) < 0) continue;  // e.g. glibc's internal ones
    if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) ::signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Each passed fd goes to its number in the worker with dup2. A source below
// the highest target may be another pair's target, so it is first copied to
// the lowest free fd above every target: no fixed minimum, which could lie
// beyond a low RLIMIT_NOFILE (F_DUPFD then fails with EINVAL). Everything
// else above stderr is marked close-on-exec: nothing but what we pass on
// purpose survives exec. Returns 0 or an errno.
MUSTER_IN_CHILD int place_fds(const ChildPlan& plan) {
  // dup2 clears close-on-exec on its target, but does nothing at all when
  // the fd is already in place: /dev/null opened as fd 0 (musterd started
  // without a stdin) would stay close-on-exec and the worker get no stdin.
  for (int target = 0; target < 3; ++target) {
    int r = plan.stdio[target] == target ? ::fcntl(target, F_SETFD, 0)
                                         : ::dup2(plan.stdio[target], target);
    if (r < 0) return errno;
  }
  int top = 0;
  for (std::size_t i = 0; i < plan.pass_count; ++i)
    top = std::max(top, plan.pass_fds[i].second + 1);
  int source[kMaxPassFds];
  for (std::size_t i = 0; i < plan.pass_count; ++i) {
    auto [from, to] = plan.pass_fds[i];
    source[i] = from;
    if (from == to || from >= top) continue;
    source[i] = ::fcntl(from, F_DUPFD_CLOEXEC, top);
    // EINVAL: `top` itself is at or above the limit; no room either way.
    if (source[i] < 0) return errno == EINVAL ? EMFILE : errno;
  }
  if (::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) < 0) return errno;
  for (std::size_t i = 0; i < plan.pass_count; ++i) {
    int to = plan.pass_fds[i].second;
    // dup2 clears close-on-exec on the target, but is a no-op (flag kept)
    // when the fd is already in place.
    int r = source[i] == to ? ::fcntl(to, F_SETFD, 0) : ::dup2(source[i], to);
    // EBADF from dup2: the target number is at or above the limit.
    if (r < 0) return errno == EBADF ? EMFILE : errno;
  }
  return 0;
}

// Between clone and exec: only system calls, no allocation, no locks. The
// credential changes are raw system calls: glibc's setuid() would try to
// change the daemon's other threads too.
MUSTER_IN_CHILD int child_setup(ChildPlan& plan) {
  if (plan.set_listen_pid) write_listen_pid(plan.envp);
  // Own session and process group: a terminal's ^C reaches only the daemon,
  // and stopping a worker can signal its whole group.
  if (::setsid() < 0) return errno;
  // Die with the daemon; if it is already gone, do not start at all.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) return errno;
  if (::getppid() != plan.parent) return ESRCH;
  if (int err = place_fds(plan)) return err;
  if (plan.cwd && ::chdir(plan.cwd) < 0) return errno;
  if (const Credentials* c = plan.credentials) {
    if (::syscall(SYS_setgroups, c->groups.size(), c->groups.data()) < 0) return errno;
    if (::syscall(SYS_setgid, c->gid) < 0) return errno;
    if (::syscall(SYS_setuid, c->uid) < 0) return errno;
  }
  reset_signals();
  ::execve(plan.executable, plan.argv, plan.envp);
  return errno;
}

MUSTER_IN_CHILD int child_main(void* arg) {
  auto& plan = *static_cast<ChildPlan*>(arg);
  plan.error = child_setup(plan);
  ::_exit(127);
}

// One stack for every child, mapped once: CLONE_VFORK suspends the daemon
// until the child has exec'd or exited, so no two children use it at once.
// The lowest page is a guard. A failed mapping (address space exhausted for a
// moment) is tried again at the next spawn, not remembered.
char* child_stack_top() {
  static char* top = nullptr;
  if (top) return top;
  long page = ::sysconf(_SC_PAGESIZE);
  void* base = ::mmap(nullptr, kChildStack, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (base == MAP_FAILED) return nullptr;
  ::mprotect(base, page, PROT_NONE);
  top = static_cast<char*>(base) + kChildStack;
  return top;
}

}  // namespace

std::vector<char*> exec_pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// clone(CLONE_VM | CLONE_VFORK) as glibc's posix_spawn does it: the child
// shares the daemon's memory until exec instead of copying its page tables,
// so a spawn costs the same with 10 workers or 1000 (a fork's cost grows with
// the daemon's memory, and the daemon grows with its workers). The calling
// thread waits, suspended, until the child has exec'd or exited -- in musterd
// the spawner's thread (daemon/launch/spawner.h), never the event loop; an exec
// error comes back through the shared plan, so no pipe is needed. (Boost
// 1.81 ships posix::vfork_launcher, but it calls notify_fork(fork_child) in
// the vfork child and so rebuilds the parent's reactor: docs/ARCHITECTURE.md.)
Result<pid_t> spawn(const SpawnSpec& spec) {
  auto cannot = [&](int err) {
    return Error{"cannot start '" + spec.executable + "': " + describe_errno(err), err};
  };
  if (spec.pass_fds.size() > kMaxPassFds) return Error{"too many fds to pass"};
  char* stack = child_stack_top();
  if (!stack) return cannot(ENOMEM);
  std::vector<std::string> args{spec.executable};
  args.insert(args.end(), spec.args.begin(), spec.args.end());
  // The environment is copied into one block the child may write to (LISTEN_PID).
  std::vector<std::string> env = spec.env;
  std::vector<char*> argv = exec_pointers(args), envp = exec_pointers(env);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) {
    int open_error = errno;
    return Error{"cannot open /dev/null: " + describe_errno(open_error), open_error};
  }
  int out = spec.stdout_fd >= 0 ? spec.stdout_fd : STDOUT_FILENO;
  int err = spec.stderr_fd >= 0 ? spec.stderr_fd : STDERR_FILENO;
  ChildPlan plan{spec.executable.c_str(),
                 argv.data(),
                 envp.data(),
                 spec.cwd.empty() ? nullptr : spec.cwd.c_str(),
                 {devnull, out, err},
                 spec.pass_fds.data(),
                 spec.pass_fds.size(),
                 spec.credentials ? &*spec.credentials : nullptr,
                 spec.set_listen_pid,
                 ::getpid()};
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::clone(child_main, stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  int clone_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(devnull);
  if (pid < 0) return cannot(clone_error);
  if (int child_error = plan.error) {
    ::waitpid(pid, nullptr, 0);  // it has exited: reap it, no zombie
    return cannot(child_error);
  }
  return pid;
}

}  // namespace muster::daemon
