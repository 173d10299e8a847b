// Sockets musterd binds on demand for Node workers: a worker's listen() or
// dgram bind() on an address no declared socket of its app answers is bound
// where Node's primary would bind it (node_address.h), under the rules of a
// supervisor that may run as root for workers that do not:
//  - with the worker's credentials: a port below the kernel's
//    ip_unprivileged_port_start only for a worker running as root (declared
//    sockets are the operator's choice and are not bound here); a unix path
//    in a child running as the worker's user (unix_bind.h), never over an
//    existing file, and removed at close only if it is still the file made
//    for it (socket_file.h);
//  - per app: `on_demand = false` refuses every one; at most
//    `max_on_demand_sockets` are held (or being bound) at once;
//  - a socket no worker uses any more is closed after `on_demand_grace`, as
//    Node's primary closes a handle when its last worker leaves
//    (lib/internal/cluster/round_robin_handle.js and shared_handle.js,
//    remove()); the grace lets a restarting worker find it still there.
// Each app has its own: two apps asking for one address do not share a
// socket (the second gets EADDRINUSE, as a second Node primary would).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "config/config.h"
#include "daemon/common/credentials.h"
#include "daemon/common/node_address.h"
#include "daemon/network/listen_socket.h"
#include "daemon/network/socket_file.h"

namespace muster::daemon {

class OnDemandSockets {
 public:
  // Why a query got no socket (metrics label): on_demand = false, the
  // app's max_on_demand_sockets, a privileged port for a worker not running
  // as root, or the bind itself failed (EADDRINUSE, EACCES...).
  enum class Refusal { disabled, limit, privileged, failed };
  static constexpr Refusal kRefusals[] = {Refusal::disabled, Refusal::limit, Refusal::privileged,
                                          Refusal::failed};

  explicit OnDemandSockets(boost::asio::io_context& io);
  ~OnDemandSockets();
  OnDemandSockets(const OnDemandSockets&) = delete;
  OnDemandSockets& operator=(const OnDemandSockets&) = delete;

  // The app's settings (on_demand, max_on_demand_sockets, on_demand_grace):
  // at start and whenever its config changes; they apply at once.
  void configure(const config::AppConfig& app);

  // The answer to `query` from worker `worker` of `app`, which runs as
  // `credentials` (nullptr: as musterd): a socket, or the error whose errno,
  // negated, Node's worker turns into its listen error (EACCES: on_demand =
  // false or a privileged port; EMFILE: the app holds max_on_demand_sockets
  // already; else the bind's own). `done` runs now, or later for a unix path still
  // being bound; it returns false if the worker can no longer take the
  // socket (then the worker does not count as using it).
  using Answer = Result<ListenSocket*>;
  using Done = std::function<bool(Answer)>;
  void acquire(const std::string& app, const ListenQuery& query, unsigned worker,
               const Credentials* credentials, Done done);
  // The worker closed its server `key` (Node's `close` act) / left: it no
  // longer uses that socket / any of the app's.
  void release(const std::string& app, const std::string& key, unsigned worker);
  void release_all(const std::string& app, unsigned worker);

  // What `status` lists of them (on_demand, with the app).
  std::vector<SocketSnapshot> snapshot() const;
  // The app's round-robin handles here.
  std::vector<RrHandle*> round_robins(const std::string& app) const;
  // Sockets the app holds or is binding; its refusals by reason, ever.
  std::size_t count(const std::string& app) const;
  std::uint64_t refused(const std::string& app, Refusal reason) const;

  // An in-place upgrade (issue 25, on_demand_handover.cc): why these
  // sockets cannot cross now (one still being bound), or nullopt; each
  // socket with its settings, fd (kept open across the exec), users and, for
  // a unix one, its file (the directory's fd, the inode); and the new
  // musterd's side, before its workers are adopted. Refusal counts start
  // again from zero.
  std::optional<std::string> busy_for_handover() const;
  boost::json::array hand_over() const;
  Result<void> adopt(const boost::json::array& carried);
  // The app's socket of that [sockets]-like name (an adopted worker's).
  ListenSocket* find(const std::string& app, const std::string& name) const;

 private:
  using Key = std::pair<std::string, std::string>;  // (app, Node's server key)
  struct Entry;
  struct AppState;

  AppState& state(const std::string& app);
  // Counts and logs (rate-limited) a refusal of `what` (an address).
  void refuse(AppState& state, const std::string& app, Refusal reason, const std::string& what);
  void bind_ip(const Key& key, std::vector<config::SocketConfig> binds);
  void pump_unix(const std::string& app);
  // The bind for `key` is over: its waiting workers get the socket or the error.
  void bound(const Key& key, Result<std::unique_ptr<ListenSocket>> result);
  void use(Entry& entry, unsigned worker);
  void unused(const Key& key, Entry& entry, unsigned worker);
  void arm_grace(const Key& key, Entry& entry);
  void close(const Key& key);

  boost::asio::io_context& io_;
  std::map<Key, std::unique_ptr<Entry>> entries_;
  std::map<std::string, std::unique_ptr<AppState>> apps_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for the binds' answers
};

const char* to_string(OnDemandSockets::Refusal reason);
// /proc/sys/net/ipv4/ip_unprivileged_port_start (1024 if it cannot be read):
// ports below it need CAP_NET_BIND_SERVICE.
int unprivileged_port_start();

}  // namespace muster::daemon
