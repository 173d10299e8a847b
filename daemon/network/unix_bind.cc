#include "daemon/network/unix_bind.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "daemon/common/errno_text.h"

namespace muster::daemon {
namespace asio = boost::asio;
namespace {

// The child's own deadline (SIGALRM ends it) and musterd's, a little later,
// for a child the signal cannot end (stuck in uninterruptible sleep).
constexpr unsigned kChildSeconds = 5;
constexpr auto kWaitLimit = std::chrono::seconds(kChildSeconds + 1);
// The file's mode: what musterd always gave sockets it bound on demand.
constexpr mode_t kUmask = 0133;  // 0644

// What the child sends back, with the socket and the directory on success.
struct Reply {
  std::int32_t err = 0;
  std::uint32_t uid = 0;
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
};

// Everything the child needs, prepared before fork.
struct ChildPlan {
  std::string dir;
  std::string name;
  int backlog;
  const Credentials* credentials;
  int result;  // our end of the socketpair
  pid_t parent;
};

void send_reply(int result, const Reply& reply, int socket_fd = -1, int dir_fd = -1) {
  iovec iov{const_cast<Reply*>(&reply), sizeof reply};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
  if (socket_fd >= 0) {
    int fds[2] = {socket_fd, dir_fd};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    std::memcpy(CMSG_DATA(c), fds, sizeof fds);
  }
  ::sendmsg(result, &msg, MSG_NOSIGNAL);
}

// The bind itself, as the worker's user; 0 or an errno.
int bind_in_child(const ChildPlan& plan, Reply& reply, int& socket_fd, int& dir_fd) {
  dir_fd = ::open(plan.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return errno;
  // Relative to the directory just opened: the socket lands where the
  // directory fd points, whatever happens to the path meanwhile.
  if (::fchdir(dir_fd) < 0) return errno;
  socket_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (socket_fd < 0) return errno;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, plan.name.c_str(), plan.name.size() + 1);
  if (::bind(socket_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return errno;
  struct stat st {};
  if (::fstatat(dir_fd, plan.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return errno;
  if (!S_ISSOCK(st.st_mode)) return EEXIST;  // replaced at once: not ours to use or remove
  reply.uid = st.st_uid;
  reply.dev = st.st_dev;
  reply.ino = st.st_ino;
  if (::listen(socket_fd, plan.backlog) < 0) {
    int err = errno;
    ::unlinkat(dir_fd, plan.name.c_str(), 0);
    return err;
  }
  return 0;
}

[[noreturn]] void child_main(const ChildPlan& plan) {
  // Nothing of musterd's but the answer's socketpair: a stuck child must not
  // keep a worker's channel or a listening socket open.
  int result = plan.result;
  if (result > 3) ::syscall(SYS_close_range, 3u, static_cast<unsigned>(result - 1), 0u);
  ::syscall(SYS_close_range, static_cast<unsigned>(result + 1), ~0u, 0u);
  // musterd's signal handlers write to its own pipes: none may run here.
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  Reply reply;
  if (::getppid() != plan.parent) ::_exit(1);
  if (const Credentials* c = plan.credentials) {
    // Effective ids only: permission checks and file ownership use them, and
    // with the real and saved uid still root's, the worker's user may not
    // signal or ptrace this process (it shares nothing with musterd anyway).
    // Raw system calls, as in spawn.cc.
    if (::syscall(SYS_setgroups, c->groups.size(), c->groups.data()) < 0 ||
        ::syscall(SYS_setresgid, -1, c->gid, -1) < 0 ||
        ::syscall(SYS_setresuid, -1, c->uid, -1) < 0) {
      reply.err = errno;
      send_reply(result, reply);
      ::_exit(1);
    }
  }
  ::alarm(kChildSeconds);
  ::umask(kUmask);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int socket_fd = -1, dir_fd = -1;
  reply.err = bind_in_child(plan, reply, socket_fd, dir_fd);
  if (reply.err)
    send_reply(result, reply);
  else
    send_reply(result, reply, socket_fd, dir_fd);
  ::_exit(0);
}

// musterd's side: one answer (or EOF, or the deadline), then `done`.
class Waiter : public std::enable_shared_from_this<Waiter> {
 public:
  Waiter(asio::io_context& io, int fd, config::SocketConfig socket,
         std::function<void(UnixBindResult)> done)
      : end_(io, fd), timer_(io), socket_(std::move(socket)), done_(std::move(done)) {}

  void start() {
    timer_.expires_after(kWaitLimit);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->finish(self->failed(ETIMEDOUT, "bind (no answer in time)"));
    });
    end_.async_wait(asio::posix::stream_descriptor::wait_read,
                    [self = shared_from_this()](boost::system::error_code ec) {
                      if (ec == asio::error::operation_aborted) return;
                      self->finish(self->read());
                    });
  }

 private:
  Error failed(int err, const char* step) const {
    return Error{std::string("cannot ") + step + " " + socket_.listen + ": " + std::strerror(err),
                 err};
  }

  UnixBindResult read() {
    Reply reply;
    iovec iov{&reply, sizeof reply};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(end_.native_handle(), &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0) return failed(errno, "hear from the child binding");
    ipc::UniqueFd fds[2];
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        if (i < 2)
          fds[i].reset(fd);
        else
          ::close(fd);
      }
    }
    if (n != static_cast<ssize_t>(sizeof reply))
      return failed(EIO, "bind (the child binding it ended without an answer)");
    if (reply.err) return failed(reply.err, "bind");
    if (!fds[0] || !fds[1]) return failed(EIO, "bind (the child sent no socket)");
    auto file = SocketFile::adopt(std::move(fds[1]), socket_.path, static_cast<dev_t>(reply.dev),
                                  static_cast<ino_t>(reply.ino));
    if (!file) return failed(file.error().errno_value, "bind");
    return UnixBound{std::move(fds[0]), std::move(file).value()};
  }

  void finish(UnixBindResult result) {
    if (!done_) return;
    timer_.cancel();
    end_.cancel();
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(result));
  }

  asio::posix::stream_descriptor end_;
  asio::steady_timer timer_;
  config::SocketConfig socket_;
  std::function<void(UnixBindResult)> done_;
};

}  // namespace

void bind_unix_as(asio::io_context& io, const config::SocketConfig& socket,
                  const Credentials* credentials, std::function<void(UnixBindResult)> done) {
  auto fail = [&](int err, const char* step) {
    Error e{std::string("cannot ") + step + " " + socket.listen + ": " + describe_errno(err), err};
    asio::post(io, [done = std::move(done), e = std::move(e)]() mutable { done(std::move(e)); });
  };
  auto slash = socket.path.rfind('/');
  if (socket.path.empty() || socket.path.front() != '/' || slash == socket.path.size() - 1)
    return fail(EINVAL, "bind");
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    return fail(errno, "make a socketpair to bind");
  ChildPlan plan{slash == 0 ? "/" : socket.path.substr(0, slash),
                 socket.path.substr(slash + 1),
                 socket.backlog,
                 credentials,
                 pair[1],
                 ::getpid()};
  // Every signal blocked across fork: none of musterd's handlers may run in
  // the child before it has set them back to the default.
  sigset_t all, old;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::fork();
  if (pid == 0) child_main(plan);
  int fork_error = errno;
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  ::close(pair[1]);
  if (pid < 0) {
    ::close(pair[0]);
    return fail(fork_error, "start a child to bind");
  }
  // The child is not a worker: the orphan reaper collects it when it exits.
  std::make_shared<Waiter>(io, pair[0], socket, std::move(done))->start();
}

}  // namespace muster::daemon
