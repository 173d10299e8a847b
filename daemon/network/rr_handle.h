// Round-robin for one listening socket: the daemon accepts, and the
// scheduler's RoundRobin decides which worker gets each connection; the
// worker's channel carries it (a `newconn` NODE_HANDLE). Owns the accept loop
// and the timer for held connections and refusal pauses. Shared-owned by its
// ListenSocket: workers and completions hold it weakly, as a retired socket's
// handle is freed (SocketTable::sweep_retired) while they may still be queued.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "config/config.h"
#include "daemon/network/accept_pause.h"
#include "daemon/network/rr_member.h"
#include "scheduler/round_robin.h"

namespace muster::daemon {

class ListenSocket;

class RrHandle : public std::enable_shared_from_this<RrHandle> {
 public:
  RrHandle(boost::asio::io_context& io, ListenSocket& socket, const config::AppConfig& app);
  ~RrHandle();
  // Starts accepting (not in the constructor: completions hold weak_from_this()).
  void start();

  // The worker `id` (in slot `instance`) listens on this socket under Node
  // key `key`; with affinity, `slots` is its app's instance count (the
  // worker's slot is its instance).
  void add(std::weak_ptr<RrMember> worker, unsigned id, unsigned instance, const std::string& key,
           unsigned slots = 0);
  // The worker's server closed, or the worker is leaving. Returns the
  // connection it was handed and had not answered: the worker's channel may
  // still hold it, so the worker closes it when the channel is done. With
  // `channel_gone` (nobody can read that channel any more: the worker died or
  // closed it) a connection nobody has read from or written to yet is not
  // returned but queued again for another worker: it never left our hands.
  ipc::UniqueFd remove(unsigned worker_id, bool channel_gone = false);
  // affinity = "client-ip": the app now has `slots` instance slots (a
  // scale); without affinity nothing changes.
  void set_slots(unsigned slots);
  // Connections queued again that way, over the handle's life.
  std::uint64_t requeued() const { return requeued_; }
  const std::string& app() const { return app_; }
  // Its socket's [sockets.NAME] (what an upgrade finds it again by).
  const std::string& socket_name() const;
  // The worker answered a newconn.
  void reply(unsigned worker_id, bool accepted);
  std::size_t pending() const { return rr_.pending(); }
  std::size_t workers() const { return rr_.workers(); }
  // Shutdown: accepts no more (the kernel's queue keeps what comes, for the
  // next musterd when systemd's fd store holds the socket) and runs `settled`
  // (posted) once every connection it holds is handed to a worker, or no
  // worker is left to take them.
  void stop_accepting(std::function<void()> settled);
  // An upgrade that was refused after stop_accepting(): accepts again.
  void resume_accepting();

 private:
  struct Member {
    std::weak_ptr<RrMember> worker;
    std::string newconn_prefix;  // the newconn line up to its seq
  };
  bool hand_off(unsigned worker_id, int fd);
  void wait_acceptable();
  void accept_ready();
  void after_change();
  void arm_timer();

  boost::asio::io_context& io_;
  ListenSocket& socket_;
  boost::asio::posix::stream_descriptor listener_;  // a dup of the socket's fd
  scheduler::RoundRobin rr_;
  std::unordered_map<unsigned, Member> members_;
  boost::asio::steady_timer timer_;
  AcceptPause pause_;  // accept() failed for want of fds: no busy loop
  std::optional<scheduler::Clock::time_point> armed_;
  bool waiting_ = false;
  bool accepting_ = true;
  std::function<void()> on_settled_;
  std::uint64_t expired_ = 0;
  std::uint64_t requeued_ = 0;
  std::string app_;  // the app whose worker first asked (for status `pending`)
};

}  // namespace muster::daemon
