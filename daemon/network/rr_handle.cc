#include "daemon/network/rr_handle.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <utility>

#include "daemon/network/listen_socket.h"
#include "daemon/network/untouched.h"
#include "scheduler/affinity.h"

namespace muster::daemon {
namespace asio = boost::asio;
using scheduler::Clock;

RrHandle::RrHandle(asio::io_context& io, ListenSocket& socket, const config::AppConfig& app)
    : io_(io),
      socket_(socket),
      listener_(io, ::fcntl(socket.fd(), F_DUPFD_CLOEXEC, 3)),
      rr_({app.max_pending, app.pending_timeout, std::chrono::milliseconds(100)},
          [this](unsigned id, int fd) { return hand_off(id, fd); }),
      timer_(io),
      pause_(io, Listener::rr, "socket " + socket.config().name, [this] { wait_acceptable(); }),
      app_(app.name) {
  if (app.affinity == config::Affinity::client_ip) rr_.set_slots(app.instances);
}

void RrHandle::start() { wait_acceptable(); }

RrHandle::~RrHandle() = default;

void RrHandle::add(std::weak_ptr<RrMember> worker, unsigned id, unsigned instance,
                   const std::string& key, unsigned slots) {
  std::string prefix =
      R"({"cmd":"NODE_HANDLE","type":"net.Native","msg":{"cmd":"NODE_CLUSTER","act":"newconn","key":)";
  prefix += boost::json::serialize(boost::json::value(key));
  prefix += R"(,"seq":)";
  members_[id] = Member{std::move(worker), std::move(prefix)};
  // Affinity: the app's slot count as this worker knows it (App::scale
  // sets a new count at once).
  set_slots(slots);
  rr_.add(id, instance);
  after_change();
}

void RrHandle::set_slots(unsigned slots) {
  if (rr_.slots() == 0 || slots == 0) return;
  rr_.set_slots(slots);
  after_change();
}

ipc::UniqueFd RrHandle::remove(unsigned worker_id, bool channel_gone) {
  members_.erase(worker_id);
  ipc::UniqueFd taken = rr_.remove(worker_id);
  if (taken && channel_gone && connection_untouched(taken.get())) {
    ++requeued_;
    spdlog::debug(
        "socket {}: connection handed to worker {}, which left before touching it, "
        "goes to another worker",
        socket_.config().name, worker_id);
    auto client = rr_.slots() != 0 ? scheduler::peer_key(taken.get()) : std::nullopt;
    rr_.connection(std::move(taken), Clock::now(), client);
  }
  after_change();
  return taken;
}

void RrHandle::reply(unsigned worker_id, bool accepted) {
  rr_.reply(worker_id, accepted, Clock::now());
  after_change();
}

bool RrHandle::hand_off(unsigned worker_id, int fd) {
  auto it = members_.find(worker_id);
  if (it == members_.end()) return false;
  auto worker = it->second.worker.lock();
  return worker && worker->send_newconn(it->second.newconn_prefix, fd, weak_from_this());
}

void RrHandle::stop_accepting(std::function<void()> settled) {
  accepting_ = false;
  on_settled_ = std::move(settled);
  if (waiting_) {
    waiting_ = false;  // the cancelled wait's handler touches nothing
    listener_.cancel();
  }
  after_change();
}

void RrHandle::resume_accepting() {
  accepting_ = true;
  on_settled_ = nullptr;
  wait_acceptable();
}

const std::string& RrHandle::socket_name() const { return socket_.config().name; }

void RrHandle::wait_acceptable() {
  if (waiting_ || rr_.full() || pause_.paused() || !accepting_) return;
  waiting_ = true;
  listener_.async_wait(asio::posix::stream_descriptor::wait_read,
                       [w = weak_from_this()](boost::system::error_code ec) {
                         // The handle may be gone (a retired socket swept),
                         // even if this completion was queued before that.
                         auto self = w.lock();
                         if (!self || ec == asio::error::operation_aborted) return;
                         self->waiting_ = false;
                         if (ec) {
                           spdlog::warn("socket {}: waiting for connections failed: {}",
                                        self->socket_.config().name, ec.message());
                           return;
                         }
                         self->accept_ready();
                       });
}

// Accepts everything the kernel has queued (up to the hold limit) in one go.
void RrHandle::accept_ready() {
  auto now = Clock::now();
  // O_NONBLOCK is shared by every holder of the socket, and a systemd worker
  // given this socket may have cleared it (a socket-activated server making
  // its socket blocking): a blocking accept() here would hang the daemon once
  // the queue is empty. Only such a socket pays the check, once per wake-up;
  // no other holder of an rr socket can change the flag.
  int flags = socket_.given_to_worker() ? ::fcntl(listener_.native_handle(), F_GETFL) : -1;
  if (flags >= 0 && !(flags & O_NONBLOCK)) {
    spdlog::warn(
        "socket {}: a worker made it blocking; musterd accepts on it, so it is "
        "non-blocking again",
        socket_.config().name);
    set_nonblocking(listener_.native_handle(), true);
  }
  // Affinity needs the client's address; without it, none is asked for.
  bool affinity = rr_.slots() != 0;
  sockaddr_storage peer;
  while (!rr_.full()) {
    socklen_t length = sizeof peer;
    int fd = ::accept4(listener_.native_handle(),
                       affinity ? reinterpret_cast<sockaddr*>(&peer) : nullptr,
                       affinity ? &length : nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      // Out of fds, say: pause (wait_acceptable() waits for the resume).
      if (pause_.failed(errno, listener_.native_handle())) break;
      continue;  // that connection went away; the next one
    }
    pause_.accepted();
    rr_.connection(ipc::UniqueFd(fd), now,
                   affinity ? scheduler::client_key(reinterpret_cast<sockaddr*>(&peer), length)
                            : std::nullopt);
  }
  after_change();
}

void RrHandle::after_change() {
  wait_acceptable();
  arm_timer();
  if (on_settled_ && (rr_.pending() == 0 || rr_.workers() == 0))
    asio::post(io_, std::exchange(on_settled_, nullptr));
}

void RrHandle::arm_timer() {
  auto next = rr_.next_deadline();
  if (!next || (armed_ && *armed_ <= *next)) return;
  armed_ = next;
  timer_.expires_at(*next);
  timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    auto self = w.lock();
    if (ec || !self) return;
    self->armed_.reset();
    if (std::size_t n = self->rr_.tick(Clock::now())) {
      self->expired_ += n;
      spdlog::warn("socket {}: closed {} connection(s) held longer than pending_timeout",
                   self->socket_.config().name, n);
    }
    self->after_change();
  });
}

}  // namespace muster::daemon
