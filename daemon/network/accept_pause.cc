#include "daemon/network/accept_pause.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cerrno>

#include "daemon/common/errno_text.h"

namespace muster::daemon {
namespace {

AcceptPauseCounts counts[3];

// The reserve descriptor: one for the whole process, as the limit it stands
// in for is the process's. -1 while it is lent out or could not be opened
// (opened again at the next pause).
int reserve_fd = -1;

void open_reserve() {
  if (reserve_fd < 0) reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

bool out_of_fds(int err) { return err == EMFILE || err == ENFILE; }

}  // namespace

const char* to_string(Listener kind) {
  switch (kind) {
    case Listener::control: return "control";
    case Listener::metrics: return "metrics";
    case Listener::rr: return "rr";
  }
  return "?";
}

const AcceptPauseCounts& accept_pause_counts(Listener kind) {
  return counts[static_cast<int>(kind)];
}

bool accept_error_is_transient(int err) {
  switch (err) {
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case EPERM:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
    case ETIMEDOUT: return true;
    default: return false;
  }
}

AcceptPause::AcceptPause(boost::asio::io_context& io, Listener kind, std::string name,
                         std::function<void()> resume)
    : kind_(kind), name_(std::move(name)), resume_(std::move(resume)), timer_(io), settle_(io) {
  // Opened while descriptors are plenty, so it is there when they are not.
  open_reserve();
}

AcceptPause::~AcceptPause() = default;

bool AcceptPause::failed(int err, int listen_fd, std::string_view farewell) {
  if (accept_error_is_transient(err)) return false;
  ++failures_;  // an end of the episode that was settling is off
  if (!in_episode_) {
    in_episode_ = true;
    episode_start_ = std::chrono::steady_clock::now();
    episode_shed_ = 0;
    ++counts[static_cast<int>(kind_)].pauses;
    spdlog::error(
        "{}: accept failed: {}; not accepting for {}ms at a time until it works "
        "again{} (logged once)",
        name_, describe_errno(err), kPause.count(),
        out_of_fds(err) ? ", closing the longest-waiting client each time" : "");
  }
  if (out_of_fds(err)) shed(listen_fd, farewell);
  paused_ = true;
  timer_.expires_after(kPause);
  timer_.async_wait([alive = watch_, this](boost::system::error_code ec) {
    if (ec || !alive.lock()) return;
    paused_ = false;
    open_reserve();
    resume_();
  });
  return true;
}

// At the limit, accepts that work (a descriptor came free) and accepts that
// fail alternate: the episode ends only once they have worked for kSettle.
void AcceptPause::accepted() {
  if (!in_episode_ || settling_ == failures_) return;
  settling_ = failures_;
  settle_.expires_after(kSettle);
  settle_.async_wait([alive = watch_, this](boost::system::error_code ec) {
    if (ec || !alive.lock() || settling_ != failures_ || !in_episode_) return;
    in_episode_ = false;
    auto lasted = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - episode_start_);
    spdlog::info("{}: accepting again after {}ms ({} waiting client(s) closed meanwhile)", name_,
                 lasted.count(), episode_shed_);
  });
}

void AcceptPause::cancel() {
  paused_ = false;
  timer_.cancel();
  settle_.cancel();
}

// The kernel hands out the lowest free descriptor, so closing the reserve
// makes room for exactly the one accept() that follows.
void AcceptPause::shed(int listen_fd, std::string_view farewell) {
  if (reserve_fd < 0) return;
  // A blocking listener (a systemd worker may clear O_NONBLOCK on an rr
  // socket it was given) would hold the loop in accept() with nobody waiting.
  int flags = ::fcntl(listen_fd, F_GETFL);
  if (flags < 0 || !(flags & O_NONBLOCK)) return;
  ::close(reserve_fd);
  reserve_fd = -1;
  int client = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (client >= 0) {
    if (!farewell.empty())
      (void)::send(client, farewell.data(), farewell.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    ::close(client);
    ++episode_shed_;
    ++counts[static_cast<int>(kind_)].shed;
  }
  open_reserve();
}

}  // namespace muster::daemon
