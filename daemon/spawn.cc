#include "daemon/spawn.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// Boost 1.81's Process v2 with BOOST_PROCESS_USE_STD_FS names boost::optional
// and boost::remove_pointer without including them.
#include <boost/optional.hpp>
#include <boost/type_traits/remove_pointer.hpp>
#include <type_traits>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/posix/default_launcher.hpp>
#include <boost/process/v2/start_dir.hpp>
#include <boost/process/v2/stdio.hpp>
#include <boost/process/v2/environment.hpp>
#include <cerrno>
#include <cstring>

#include "daemon/orphan_reaper.h"

namespace muster::daemon {
namespace bp = boost::process::v2;

namespace {

// The child setup works on fixed arrays (no allocation after fork).
constexpr std::size_t kMaxPassFds = 16;

// LISTEN_PID must be the worker's own pid, known only after fork: the child
// overwrites the placeholder digits in its copy of the environment block (the
// daemon is single-threaded, so the forked copy is consistent; no allocation).
void write_listen_pid(const char* const* env) {
  if (!env) return;
  for (; *env; ++env) {
    if (std::strncmp(*env, "LISTEN_PID=", 11) != 0) continue;
    char* digits = const_cast<char*>(*env) + 11;
    char buf[16];
    int n = 0;
    for (pid_t pid = ::getpid(); pid > 0 && n < 15; pid /= 10) buf[n++] = char('0' + pid % 10);
    if (n > static_cast<int>(std::strlen(kListenPidPlaceholder))) return;
    for (int i = 0; i < n; ++i) digits[i] = buf[n - 1 - i];
    digits[n] = '\0';
    return;
  }
}

// Runs in the child between fork and exec, so only async-signal-safe calls.
struct ChildSetup {
  const SpawnSpec& spec;
  pid_t parent;

  bp::error_code on_setup(bp::posix::default_launcher& launcher, const bp::filesystem::path&,
                          const char* const*) {
    for (auto [from, to] : spec.pass_fds) launcher.fd_whitelist.push_back(to);
    return {};
  }

  bp::error_code on_exec_setup(bp::posix::default_launcher& launcher,
                               const bp::filesystem::path&, const char* const*) {
    auto fail = [] { return bp::error_code(errno, bp::system_category()); };
    auto out_of_fds = [] { return bp::error_code(EMFILE, bp::system_category()); };
    if (spec.set_listen_pid) write_listen_pid(launcher.env);
    // Own session and process group: a terminal's ^C reaches only the daemon,
    // and stopping a worker can signal its whole group.
    if (::setsid() < 0) return fail();
    // Die with the daemon; if it is already gone, do not start at all.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) return fail();
    if (::getppid() != parent) return bp::error_code(ESRCH, bp::system_category());
    // The daemon ignores SIGPIPE and SIGXFSZ; ignored dispositions survive
    // exec, so undo it.
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGXFSZ, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Each passed fd goes to its number in the worker with dup2. A source below
    // the highest target may be another pair's target, so it is first copied
    // to the lowest free fd above every target: no fixed minimum, which could
    // lie beyond a low RLIMIT_NOFILE (F_DUPFD then fails with EINVAL).
    int top = 0;
    for (auto [from, to] : spec.pass_fds) top = std::max(top, to + 1);
    int source[kMaxPassFds];
    std::size_t n = std::min(spec.pass_fds.size(), kMaxPassFds);
    for (std::size_t i = 0; i < n; ++i) {
      auto [from, to] = spec.pass_fds[i];
      source[i] = from;
      if (from == to || from >= top) continue;
      source[i] = ::fcntl(from, F_DUPFD_CLOEXEC, top);
      // EINVAL: `top` itself is at or above the limit; no room either way.
      if (source[i] < 0) return errno == EINVAL ? out_of_fds() : fail();
    }
    // Nothing but what we pass on purpose may survive exec. Boost 1.81's
    // close_all() skips the fds between whitelist entries (it compares an
    // entry with itself), so mark every fd above stderr close-on-exec here.
    if (::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) < 0) return fail();
    for (std::size_t i = 0; i < n; ++i) {
      int to = spec.pass_fds[i].second;
      // dup2 clears close-on-exec on the target, but is a no-op (flag kept)
      // when the fd is already in place.
      int r = source[i] == to ? ::fcntl(to, F_SETFD, 0) : ::dup2(source[i], to);
      // EBADF from dup2: the target number is at or above the limit.
      if (r < 0) return errno == EBADF ? out_of_fds() : fail();
    }
    if (spec.credentials) {
      const auto& c = *spec.credentials;
      if (::setgroups(c.groups.size(), c.groups.data()) < 0) return fail();
      if (::setgid(c.gid) < 0) return fail();
      if (::setuid(c.uid) < 0) return fail();
    }
    return {};
  }
};

std::string describe_error(const bp::error_code& ec) {
  return ec.category() == bp::system_category() ? describe_errno(ec.value()) : ec.message();
}

}  // namespace

std::string describe_errno(int err) {
  std::string text = std::strerror(err);
  if (err != EMFILE) return text;
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) < 0) return text + " (EMFILE)";
  std::string soft = limit.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(limit.rlim_cur);
  return text + " (EMFILE: RLIMIT_NOFILE soft limit " + soft + ")";
}

std::variant<std::monostate, Credentials, std::string> resolve_credentials(
    const config::AppConfig& app) {
  if (app.user.empty() && app.group.empty()) return std::monostate{};
  Credentials creds{::getuid(), ::getgid(), {}};
  std::string user_name;
  if (!app.user.empty()) {
    struct passwd* pw = ::getpwnam(app.user.c_str());
    if (!pw) return "no user named '" + app.user + "'";
    creds.uid = pw->pw_uid;
    creds.gid = pw->pw_gid;
    user_name = pw->pw_name;
  }
  if (!app.group.empty()) {
    struct group* gr = ::getgrnam(app.group.c_str());
    if (!gr) return "no group named '" + app.group + "'";
    creds.gid = gr->gr_gid;
  }
  if (!user_name.empty()) {
    int count = 64;
    std::vector<gid_t> groups(count);
    while (::getgrouplist(user_name.c_str(), creds.gid, groups.data(), &count) < 0)
      groups.resize(count);
    groups.resize(count);
    creds.groups = std::move(groups);
  } else {
    creds.groups = {creds.gid};
  }
  if (::geteuid() != 0 && (creds.uid != ::geteuid() || creds.gid != ::getegid()))
    return std::string("user/group need musterd to run as root");
  return creds;
}

std::variant<pid_t, std::string> spawn(boost::asio::io_context& io, const SpawnSpec& spec) {
  if (spec.pass_fds.size() > kMaxPassFds) return std::string("too many fds to pass");
  bp::posix::default_launcher launcher;
  bp::error_code ec;
  int out = spec.stdout_fd >= 0 ? spec.stdout_fd : STDOUT_FILENO;
  int err = spec.stdout_fd >= 0 ? spec.stdout_fd : STDERR_FILENO;
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) return "cannot open /dev/null: " + describe_errno(errno);
  try {
    bp::process proc = launcher(io.get_executor(), ec, spec.executable, spec.args,
                            bp::process_stdio{devnull, out, err},
                            bp::process_environment(spec.env),
                            bp::process_start_dir(spec.cwd),
                            ChildSetup{spec, ::getpid()});
    ::close(devnull);
    if (ec) {
      // The child reported its failure (e.g. exec's errno) and exits; the
      // launcher does not wait for it, so reap it here or it stays a zombie.
      if (launcher.pid > 0) ::waitpid(launcher.pid, nullptr, 0);
      return "cannot start '" + spec.executable + "': " + describe_error(ec);
    }
    pid_t pid = proc.id();
    proc.detach();  // closes Boost's pidfd; never kills or waits
    OrphanReaper::own(pid);
    return pid;
  } catch (const std::exception& e) {
    auto* system = dynamic_cast<const boost::system::system_error*>(&e);
    // e.g. pidfd_open refused (old kernel, valgrind): a failed spawn, not a
    // dead daemon. A child forked before the failure must not run unwatched.
    if (launcher.pid > 0) {
      ::kill(launcher.pid, SIGKILL);
      ::waitpid(launcher.pid, nullptr, 0);
    }
    ::close(devnull);
    return "cannot start '" + spec.executable + "': " +
           (system ? describe_error(system->code()) : std::string(e.what()));
  }
}

}  // namespace muster::daemon
