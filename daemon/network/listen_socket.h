// Daemon-owned listening sockets: the declared [sockets.*] (bound at start),
// which stay open across worker restarts for the daemon's life. Those bound
// on demand for Node workers are ListenSockets too, held by OnDemandSockets
// (on_demand.h).
#pragma once

#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "daemon/common/node_address.h"
#include "daemon/network/socket_file.h"
#include "daemon/network/socket_snapshot.h"
#include "ipc/unique_fd.h"

namespace muster::daemon {

class RrHandle;
class EventBus;

// What bind_listen made: the socket and, for a unix one, the file it created.
struct BoundSocket {
  ipc::UniqueFd fd;
  std::optional<SocketFile> file;
};

// socket + SO_REUSEADDR + bind + listen(backlog), all O_CLOEXEC|O_NONBLOCK;
// for a `datagram` socket (UDP), only socket + bind, as Node's dgram does.
// A unix socket's file is made by SocketFile::bind (no link followed, mode
// and owner set without a path another user could swap).
Result<BoundSocket> bind_listen(const config::SocketConfig& socket);
// Sets (on) or clears O_NONBLOCK, a flag of the socket's open file
// description, which every process holding the socket shares; false (errno
// set) if fcntl fails.
bool set_nonblocking(int fd, bool on);
// "127.0.0.1:8000", "[::1]:8000", "unix:/run/x.sock" from getsockname.
std::string bound_address(int fd);
// A socket systemd passed for `socket`: kept if it is a listening stream
// socket bound to the address the config names (any port if the config
// says 0), else the reason it is refused.
Result<ipc::UniqueFd> adopt_listen(const config::SocketConfig& socket, ipc::UniqueFd fd);

class ListenSocket;
// What `status` lists of a socket (daemon/observe/snapshot.h).
SocketSnapshot socket_snapshot(const ListenSocket& socket);

class ListenSocket {
 public:
  ListenSocket(config::SocketConfig config, BoundSocket bound, bool on_demand);
  ~ListenSocket();

  const config::SocketConfig& config() const { return config_; }
  int fd() const { return fd_.get(); }
  const std::string& bound() const { return bound_; }
  std::uint16_t port() const { return port_; }
  bool on_demand() const { return on_demand_; }
  // A unix socket's file stays when the socket closes: systemd's .socket
  // unit owns it, or the fd store keeps the socket for musterd's successor.
  // (Only a file musterd bound itself is ever removed: SocketFile::remove.)
  void keep_file() { keep_file_ = true; }
  // Its unix socket's file when this musterd removes it at close, or null.
  const SocketFile* file() const { return file_ && !keep_file_ ? &*file_ : nullptr; }
  // Node workers' `data` for this socket (TLS servers send ticket keys): the
  // first worker's is kept and given to every later one.
  boost::json::value& data() { return data_; }
  // The round-robin distributor, created when the first rr worker asks.
  std::shared_ptr<RrHandle> round_robin(boost::asio::io_context& io, const config::AppConfig& app);
  RrHandle* round_robin_if_any() { return rr_.get(); }
  // The listening fd itself went to a systemd-protocol worker, which may
  // change its O_NONBLOCK (a flag of the open file, shared with musterd).
  void mark_given_to_worker() { given_to_worker_ = true; }
  bool given_to_worker() const { return given_to_worker_; }

 private:
  config::SocketConfig config_;
  ipc::UniqueFd fd_;
  std::optional<SocketFile> file_;
  std::string bound_;
  std::uint16_t port_ = 0;
  bool on_demand_;
  bool keep_file_ = false;
  bool given_to_worker_ = false;
  boost::json::value data_;
  std::shared_ptr<RrHandle> rr_;  // workers hold it weakly
};

class SocketTable {
 public:
  // Binds every declared socket except those in `per_slot_only` (sockets of
  // reuseport apps get one socket per slot instead); the first failure is
  // returned (nothing of the table is kept then).
  Result<void> bind_declared(const std::vector<config::SocketConfig>& sockets,
                             const std::vector<std::string>& per_slot_only = {});
  // scheduling = "reuseport": slot `slot`'s own SO_REUSEPORT socket for the
  // declared socket `config`, bound on first use and kept while the slot
  // exists, so connections queued on it wait for the slot's next worker.
  Result<ListenSocket*> slot_socket(const config::SocketConfig& config, unsigned slot);
  // The slot is gone (scale down): musterd drops its copy; the socket closes
  // when the slot's last worker has closed it too.
  void release_slot(const std::string& name, unsigned slot);
  ListenSocket* find(const std::string& name);
  // The declared socket that answers `query` for the worker in `slot` of
  // `app`: one of the app's declared sockets if it matches (for scheduling =
  // "reuseport", the slot's own socket of it; `declared` holds their
  // configs); nullptr if none does (then OnDemandSockets answers). On
  // failure, the error with the errno Node's worker is answered (negated).
  Result<ListenSocket*> resolve_declared(const config::AppConfig& app, const ListenQuery& query,
                                         unsigned slot,
                                         const std::vector<config::SocketConfig>& declared);
  std::vector<SocketSnapshot> snapshot() const;
  std::vector<std::unique_ptr<ListenSocket>>& all() { return sockets_; }

  // Config reload: adds an already bound socket; takes a socket out of use
  // (workers registered with it keep it alive until they are gone).
  void add(std::unique_ptr<ListenSocket> socket);
  void retire(const std::string& name);
  // Closes retired sockets nobody is registered with any more.
  void sweep_retired();

  // Sockets systemd passed (LISTEN_FDS), by [sockets.NAME] or NAME#SLOT for
  // a reuseport slot: used instead of binding those names.
  // `from` names the giver in the log ("systemd", "the previous musterd").
  void set_inherited(std::map<std::string, ipc::UniqueFd> fds, std::string from = "systemd") {
    inherited_ = std::move(fds);
    inherited_from_ = std::move(from);
  }
  // Closes the inherited sockets no config entry asked for; their names.
  std::vector<std::string> drop_unused_inherited();
  // Told of every declared or slot socket once it listens, and of the name
  // of each that the config no longer has (the fd store follows both).
  std::function<void(ListenSocket&)> on_open;
  std::function<void(const std::string&)> on_drop;
  // Every unix socket file stays at exit (the fd store keeps the sockets).
  void keep_files();
  // Shutdown: every round-robin socket stops accepting (RrHandle::
  // stop_accepting); `settled` runs once all of them have handed over what
  // they hold.
  void stop_accepting(std::function<void()> settled);
  // An upgrade refused after stop_accepting(): every socket accepts again.
  void resume_accepting();
  // An upgrade's exec: each socket in use by the name set_inherited() takes
  // it back under (NAME, or NAME#SLOT for a reuseport slot's), and its fd,
  // which stays this table's (the exec keeps it open).
  std::map<std::string, int> handover_fds() const;
  // Whether a socket would be lost by an upgrade: a retired one still in
  // use. Its name, or empty.
  std::string retired_in_use() const;

 private:
  Result<BoundSocket> open_socket(const config::SocketConfig& config);
  void opened(ListenSocket& socket);

  std::vector<std::unique_ptr<ListenSocket>> sockets_;
  std::vector<std::unique_ptr<ListenSocket>> retired_;
  // Ephemeral ports chosen for reuseport sockets, kept for the daemon's life
  // even while no slot socket exists.
  std::map<std::string, std::uint16_t> slot_ports_;
  std::map<std::string, ipc::UniqueFd> inherited_;
  std::string inherited_from_ = "systemd";
};

}  // namespace muster::daemon
