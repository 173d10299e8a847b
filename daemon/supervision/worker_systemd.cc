// The systemd protocol of a worker (sd_listen_fds(3), sd_notify(3)): its
// sockets and environment at spawn, and the datagrams it sends on the notify
// socket. README "systemd-protocol workers" lists what is and is not kept of
// systemd's contract; docs/compatibility.md proves it.
#include <spdlog/spdlog.h>
#include <algorithm>
#include <cerrno>

#include "daemon/network/listen_socket.h"
#include "daemon/supervision/worker.h"

namespace muster::daemon {
namespace {

// EXTEND_TIMEOUT_USEC= beyond a day is taken as a day (systemd saturates at
// infinity; a timer deadline must not overflow).
constexpr std::uint64_t kMaxExtendUsec = 24ULL * 3600 * 1000 * 1000;

}  // namespace

// systemd protocol: the app's sockets as fds 3.. in `sockets` order, with
// LISTEN_FDS/LISTEN_FDNAMES/LISTEN_PID (sd_listen_fds(3)) and NOTIFY_SOCKET.
Result<void> Worker::prepare_sockets(SpawnSpec& spec) {
  if (app_.protocol != config::Protocol::systemd) return {};
  std::string names;
  int next_fd = 3;
  for (const auto& name : app_.sockets) {
    ListenSocket* socket = nullptr;
    if (app_.scheduling == config::Scheduling::reuseport) {
      const config::SocketConfig* declared = nullptr;
      for (const auto& c : *context_.socket_configs)
        if (c.name == name) declared = &c;
      if (!declared) return Error{"socket '" + name + "' is not declared"};
      auto slot = context_.sockets.slot_socket(*declared, identity_.instance);
      if (!slot) return slot.error();
      socket = *slot;
    } else {
      socket = context_.sockets.find(name);
    }
    if (!socket) return Error{"socket '" + name + "' is not bound"};
    if (!give_mode(*socket)) {
      int err = errno;
      return Error{"cannot set the blocking mode of socket '" + name + "': " + describe_errno(err),
                   err};
    }
    spec.pass_fds.emplace_back(socket->fd(), next_fd++);
    if (!names.empty()) names += ':';
    names += name;
  }
  if (!app_.sockets.empty()) {
    spec.env.push_back("LISTEN_FDS=" + std::to_string(app_.sockets.size()));
    spec.env.push_back("LISTEN_FDNAMES=" + names);
    spec.env.push_back(std::string("LISTEN_PID=") + kListenPidPlaceholder);
    spec.set_listen_pid = true;
  }
  if (!context_.notify_address.empty())
    spec.env.push_back("NOTIFY_SOCKET=" + context_.notify_address);
  if (app_.watchdog.count() > 0)
    spec.env.push_back("WATCHDOG_USEC=" + std::to_string(app_.watchdog.count() * 1000));
  return {};
}

// The worker gets the socket blocking unless its config says nonblocking
// (systemd's NonBlocking=). The flag is the socket's, shared with everyone
// holding it; the config refuses node apps on a blocking socket, but one may
// still be draining after a config reload, and then musterd accepts on it
// (rr): it stays non-blocking.
bool Worker::give_mode(ListenSocket& socket) {
  bool nonblocking = socket.config().nonblocking;
  if (!nonblocking && socket.round_robin_if_any()) {
    spdlog::warn(
        "{}[{}] gets socket {} non-blocking: musterd still accepts on it for an "
        "earlier node app",
        identity_.app, identity_.id, socket.config().name);
    nonblocking = true;
  }
  socket.mark_given_to_worker();
  return set_nonblocking(socket.fd(), nonblocking);
}

void Worker::on_notify(const ipc::NotifyMessage& m) {
  if (life_.state == WorkerState::dead) return;
  if (m.status) status_text_ = *m.status;
  if (m.errno_value)
    spdlog::info("{}[{}] reports errno {}", identity_.app, identity_.id, *m.errno_value);
  if (m.fdstore)
    refuse_once(refused_fdstore_, "FDSTORE=1",
                "it keeps the listening sockets open across "
                "restarts itself; the fds sent are closed");
  if (m.main_pid && *m.main_pid != static_cast<std::uint64_t>(pid_))
    refuse_once(refused_main_pid_, "MAINPID=", "it supervises the process it started");
  if (m.watchdog) on(Event::watchdog_kept);
  // RELOADING=1 ... READY=1 (Type=notify-reload): the worker reloads itself
  // while it keeps serving; musterd only logs it.
  if (m.reloading && !reloading_) {
    reloading_ = true;
    spdlog::info("{}[{}] reloading (RELOADING=1)", identity_.app, identity_.id);
  }
  if (m.ready && reloading_) {
    reloading_ = false;
    spdlog::info("{}[{}] reloaded (READY=1)", identity_.app, identity_.id);
  }
  if (m.ready) on(Event::notified_ready);
  if (m.stopping) on(Event::stopping);
  if (m.watchdog_trigger) on(Event::watchdog_timeout);
  // After the state changes, as systemd does: "STOPPING=1\nEXTEND_TIMEOUT_USEC=n"
  // extends the stop.
  if (m.extend_timeout_usec)
    extend_timeout(std::chrono::microseconds(std::min(*m.extend_timeout_usec, kMaxExtendUsec)));
}

// EXTEND_TIMEOUT_USEC= (sd_notify(3)): the deadline of the phase the worker
// is in, start-up (ready_timeout) or stop (stop_timeout), moves to at least
// `by` from now, never earlier, as systemd's service_extend_timeout() does.
// A ready, running worker has no deadline (systemd's RuntimeMaxSec=).
void Worker::extend_timeout(std::chrono::microseconds by) {
  WorkerFacts f = facts();
  f.extend_by = by;
  on(Event::extend_timeout, f);
}

void Worker::refuse_once(bool& refused, const char* what, const char* why) {
  if (refused) return;
  refused = true;
  spdlog::warn("{}[{}] sent {}, which musterd does not support ({}); ignored", identity_.app,
               identity_.id, what, why);
}

}  // namespace muster::daemon
