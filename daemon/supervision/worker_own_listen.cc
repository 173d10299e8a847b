// A Node worker that binds its own server (listen({exclusive: true}), Node
// 23's reusePort) never sends `listening`: musterd asks the kernel instead
// (daemon/network/own_listen.h), so such a worker becomes ready like any other and a
// reload does not wait ready_timeout for it.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/network/own_listen.h"
#include "daemon/supervision/worker.h"

namespace muster::daemon {

namespace {
// The first look soon after `online` (a server binds as the script starts),
// then at doubling intervals up to kLastProbe: a few cheap looks per worker,
// never a poll of the whole app.
constexpr Duration kFirstProbe = std::chrono::milliseconds(20);
constexpr Duration kLastProbe = std::chrono::milliseconds(500);
}  // namespace

void Worker::probe_own_listen() { arm_own_listen_probe(kFirstProbe); }

void Worker::arm_own_listen_probe(Duration delay) {
  probe_timer_.expires_after(delay);
  probe_timer_.async_wait([w = weak_from_this(), delay](boost::system::error_code ec) {
    auto self = w.lock();
    if (!self || ec) return;
    // Only while it is online, not ready and has asked for no server (one
    // that asked is told `listening` by Node itself).
    const WorkerLife& life = self->life_;
    if (life.state != WorkerState::online || life.ready || life.asked_server) return;
    if (listens_on_own_socket(self->pid_, self->inspector_port_)) {
      spdlog::info("{}[{}] listens on a socket of its own", self->identity_.app,
                   self->identity_.id);
      self->on(Event::listening);
      return;
    }
    // Up to ready_timeout, which then decides (ready = "auto" may go quiet).
    if (Clock::now() + delay > self->started_ + self->app_.ready_timeout) return;
    self->arm_own_listen_probe(std::min(delay * 2, kLastProbe));
  });
}

}  // namespace muster::daemon
