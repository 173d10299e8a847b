#include "daemon/launch/process_setup.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace muster::daemon {

void fill_standard_fds() {
  for (int fd = 0; fd < 3; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    // The lowest free number is `fd` itself: every lower one is open by now.
    int opened = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (opened >= 0 && opened != fd) ::close(opened);  // cannot happen; never keep a stray
  }
}

namespace {

// What each needed call answers on this kernel: "" if it works.
std::string probe_close_range() {
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";  // cannot tell; spawning will say
  long r = ::syscall(SYS_close_range, static_cast<unsigned>(fd), static_cast<unsigned>(fd),
                     CLOSE_RANGE_CLOEXEC);
  int err = errno;
  ::close(fd);
  return r == 0 ? ""
                : "close_range(CLOSE_RANGE_CLOEXEC), Linux 5.11 (" +
                      std::string(std::strerror(err)) + ")";
}

std::string probe_pidfd() {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  if (pidfd < 0) {
    if (errno == EMFILE || errno == ENFILE) return "";  // cannot tell
    return "pidfd_open, Linux 5.3 (" + std::string(std::strerror(errno)) + ")";
  }
  // P_PIDFD (5.4): on our own pid, which is no child of ours, ECHILD; a
  // kernel without it says EINVAL.
  constexpr auto kPidfd = static_cast<idtype_t>(3);
  siginfo_t info{};
  int r = ::waitid(kPidfd, pidfd, &info, WEXITED | WNOHANG);
  int err = errno;
  ::close(pidfd);
  if (r < 0 && err == EINVAL)
    return "waitid(P_PIDFD), Linux 5.4 (" + std::string(std::strerror(err)) + ")";
  return "";
}

}  // namespace

Result<void> missing_kernel_features() {
  std::string missing;
  for (const std::string& m : {probe_pidfd(), probe_close_range()})
    if (!m.empty()) missing += (missing.empty() ? "" : ", ") + m;
  if (missing.empty()) return {};
  utsname u{};
  std::string release = ::uname(&u) == 0 ? u.release : "unknown";
  return Error{"musterd needs Linux 5.11 or later; this kernel (" + release + ") lacks " + missing};
}

}  // namespace muster::daemon
