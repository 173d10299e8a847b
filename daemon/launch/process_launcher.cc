#include "daemon/launch/process_launcher.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstring>
#include <memory>

#include "daemon/common/memory_reserve.h"

namespace muster::daemon {
namespace asio = boost::asio;
namespace {

// One process's pidfd, kept alive by its own pending wait.
struct PidfdWatch : std::enable_shared_from_this<PidfdWatch> {
  PidfdWatch(asio::io_context& io, int pidfd, pid_t pid, ProcessLauncher& owner,
             Launcher::ExitHandler done)
      : fd(io, pidfd), pid(pid), owner(owner), done(std::move(done)) {}

  // The pidfd's readability is only a hint; waitid(P_PIDFD, WNOHANG)
  // decides, and never blocks. (A blocking waitpid(pid) after a readable
  // pidfd, as Boost.Process 1.81's async_wait does, stalls the whole daemon
  // whenever that pid is not, or no longer, the exited child: seen as a 10 s
  // hang.)
  void wait() {
    fd.async_wait(asio::posix::stream_descriptor::wait_read,
                  [self = shared_from_this()](boost::system::error_code ec) {
                    if (ec == asio::error::operation_aborted) return;
                    siginfo_t info{};
                    constexpr auto kPidfd = static_cast<idtype_t>(3);  // P_PIDFD (Linux 5.4)
                    int r = ::waitid(kPidfd, self->fd.native_handle(), &info, WEXITED | WNOHANG);
                    if (r == 0 && info.si_pid == 0) return self->wait();  // not exited yet
                    self->owner.release(self->pid);
                    ProcessExit exit;
                    if (r == 0 && info.si_code == CLD_EXITED)
                      exit.code = info.si_status;
                    else if (r == 0)
                      exit.signal = info.si_status;  // CLD_KILLED / CLD_DUMPED
                    self->done(exit);
                  });
  }

  asio::posix::stream_descriptor fd;
  pid_t pid;
  ProcessLauncher& owner;
  Launcher::ExitHandler done;
};

}  // namespace

void ProcessLauncher::spawn(const SpawnSpec& spec, SpawnDone done) {
  if (in_flight_++ == 0) work_.emplace(io_.get_executor());
  try {
    spawner_.submit(spec, [this, done = std::move(done), exe = spec.executable](Started started) {
      if (--in_flight_ == 0) work_.reset();
      done(own(std::move(started), exe));
    });
  } catch (...) {
    if (--in_flight_ == 0) work_.reset();
    throw;
  }
}

Launcher::Started ProcessLauncher::own(Started started, const std::string& executable) {
  if (!started) return started;
  pid_t* pid = &*started;
  try {
    owned_.insert(*pid);
  } catch (const std::exception& e) {
    memory_reserve::release_if_out_of_memory(e);
    // Out of memory: a worker the orphan reaper might reap behind its
    // watch's back is not started at all.
    ::kill(*pid, SIGKILL);
    ::waitpid(*pid, nullptr, 0);
    return Error{"cannot start '" + executable + "': " + e.what()};
  }
  return started;
}

Result<void> ProcessLauncher::adopt(pid_t pid) {
  // A zombie counts: its exit is collected by the watch that follows.
  if (pid <= 0 || (::kill(pid, 0) < 0 && errno == ESRCH))
    return Error{"no process " + std::to_string(pid), ESRCH};
  owned_.insert(pid);
  return {};
}

Result<void> ProcessLauncher::watch_exit(pid_t pid, ExitHandler done) {
  // A zombie has a pidfd too.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return Error{std::strerror(errno), errno};
  std::shared_ptr<PidfdWatch> watch;
  try {
    watch = std::make_shared<PidfdWatch>(io_, pidfd, pid, *this, std::move(done));
  } catch (...) {
    ::close(pidfd);
    throw;
  }
  watch->wait();
  return {};
}

int ProcessLauncher::signal(pid_t pid, int signo, SignalTarget target) {
  if (pid <= 0) return ESRCH;
  if (target != SignalTarget::process) {
    if (::kill(-pid, signo) == 0) return 0;
    if (target == SignalTarget::group) return errno;
  }
  return ::kill(pid, signo) == 0 ? 0 : errno;
}

}  // namespace muster::daemon
