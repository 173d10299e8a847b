#include "daemon/handover/exec_handover.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "daemon/common/errno_text.h"
#include "daemon/launch/spawn.h"

namespace muster::daemon::handover {
namespace {

int execute(int exe_fd, const std::string& path, char* const* argv) {
  if (exe_fd >= 0) return ::execveat(exe_fd, "", argv, environ, AT_EMPTY_PATH);
  return ::execve(path.c_str(), argv, environ);
}

std::string binary_name(const ExecPlan& plan) {
  if (plan.exe_fd < 0) return "'" + plan.path + "'";
  return "'" + plan.path + "' (fd " + std::to_string(plan.exe_fd) + ")";
}

// Each fd's flags as they were, put back in reverse (an fd named twice ends
// as it began).
void restore_flags(const std::vector<int>& fds, const std::vector<int>& flags) {
  for (std::size_t i = flags.size(); i-- > 0;) ::fcntl(fds[i], F_SETFD, flags[i]);
}

}  // namespace

Result<ipc::UniqueFd> open_own_executable() {
  ipc::UniqueFd fd(::open("/proc/self/exe", O_PATH | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    return Error{"cannot open /proc/self/exe: " + describe_errno(err), err};
  }
  return fd;
}

Error exec_replacing(const ExecPlan& plan) {
  if (plan.argv.empty()) return Error{"cannot execute " + binary_name(plan) + ": no argv[0]"};
  std::vector<std::string> args = plan.argv;
  std::vector<char*> argv = exec_pointers(args);
  std::vector<int> flags;
  flags.reserve(plan.keep_fds.size());
  for (int fd : plan.keep_fds) {
    int was = ::fcntl(fd, F_GETFD);
    if (was < 0 || ::fcntl(fd, F_SETFD, was & ~FD_CLOEXEC) < 0) {
      int err = errno;
      restore_flags(plan.keep_fds, flags);
      return Error{"cannot pass fd " + std::to_string(fd) + " to " + binary_name(plan) + ": " +
                       describe_errno(err),
                   err};
    }
    flags.push_back(was);
  }
  execute(plan.exe_fd, plan.path, argv.data());
  int err = errno;
  restore_flags(plan.keep_fds, flags);
  return Error{"cannot execute " + binary_name(plan) + ": " + describe_errno(err), err};
}

// The crash guard. Everything the handler reads is prepared by
// arm_crash_fallback before the handlers are installed.
namespace {

constexpr std::array<int, 5> kFaults = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
constexpr std::size_t kAltStackBytes = 64 * 1024;

struct Fallback {
  int exe_fd = -1;
  std::vector<std::string> args;
  std::vector<char*> argv;
  sigset_t mask{};  // the mask when armed, which the fallback starts with
  std::array<struct sigaction, kFaults.size()> previous{};
  bool armed = false;
  bool own_stack = false;  // the alternate stack is ours, to remove at disarm
};

Fallback fallback;
alignas(16) char alt_stack[kAltStackBytes];

extern "C" void on_fault(int signo) {
  // The handler runs with `signo` blocked, and a mask survives exec.
  ::sigprocmask(SIG_SETMASK, &fallback.mask, nullptr);
  ::execveat(fallback.exe_fd, "", fallback.argv.data(), environ, AT_EMPTY_PATH);
  struct sigaction fallback_failed {};
  fallback_failed.sa_handler = SIG_DFL;
  ::sigemptyset(&fallback_failed.sa_mask);
  ::sigaction(signo, &fallback_failed, nullptr);
  sigset_t just{};
  ::sigemptyset(&just);
  ::sigaddset(&just, signo);
  ::sigprocmask(SIG_UNBLOCK, &just, nullptr);
  ::raise(signo);
}

// An alternate stack for the handler unless the thread has one already.
void ensure_alt_stack() {
  stack_t current{};
  if (::sigaltstack(nullptr, &current) < 0 || !(current.ss_flags & SS_DISABLE)) return;
  stack_t ours{};
  ours.ss_sp = alt_stack;
  ours.ss_size = sizeof alt_stack;
  fallback.own_stack = ::sigaltstack(&ours, nullptr) == 0;
}

void restore_actions(std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) ::sigaction(kFaults[i], &fallback.previous[i], nullptr);
}

}  // namespace

Result<void> arm_crash_fallback(int exe_fd, std::vector<std::string> argv) {
  disarm_crash_fallback();
  if (exe_fd < 0 || argv.empty()) return Error{"crash fallback: no binary or no argv[0]"};
  fallback.exe_fd = exe_fd;
  fallback.args = std::move(argv);
  fallback.argv = exec_pointers(fallback.args);
  ::pthread_sigmask(SIG_SETMASK, nullptr, &fallback.mask);
  ensure_alt_stack();
  struct sigaction action {};
  action.sa_handler = on_fault;
  action.sa_flags = SA_ONSTACK;
  ::sigemptyset(&action.sa_mask);
  for (std::size_t i = 0; i < kFaults.size(); ++i) {
    if (::sigaction(kFaults[i], &action, &fallback.previous[i]) < 0) {
      int err = errno;
      restore_actions(i);
      disarm_crash_fallback();  // our alternate stack, if any
      return Error{"crash fallback: sigaction: " + describe_errno(err), err};
    }
  }
  fallback.armed = true;
  return {};
}

void disarm_crash_fallback() {
  if (fallback.armed) restore_actions(kFaults.size());
  fallback.armed = false;
  if (fallback.own_stack) {
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    ::sigaltstack(&off, nullptr);
    fallback.own_stack = false;
  }
}

}  // namespace muster::daemon::handover
