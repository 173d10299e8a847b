// The control socket: a Unix stream listener whose sessions read one JSON
// request per line and answer in order (docs/control-protocol.md). Requests are
// handed to a Handler, which may answer later (e.g. when a stop completes).
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "config/config.h"
#include "daemon/common/group_members.h"
#include "daemon/control/control_socket_file.h"
#include "daemon/network/accept_pause.h"
#include "ipc/control_protocol.h"

namespace muster::daemon {

class ControlSession;

// How a handler answers: call it once with the reply line. A streaming verb
// (events --follow) then calls stream() and push()es further lines until the
// client goes away. Every request is answered: if the last copy of its
// Responder goes without having been called (a completion that threw — out of
// memory — and never got to answer), the client gets an error reply then.
class Responder {
 public:
  explicit Responder(std::shared_ptr<ControlSession> session);
  void operator()(std::string reply_line) const;
  // Keeps the connection as a one-way stream after the reply; `on_close` runs
  // when the client disconnects (or is dropped for not reading).
  void stream(std::function<void()> on_close) const;
  void push(std::string line) const;
  // An in-place upgrade: the client's connection, for the new musterd to
  // answer on (ControlSession::hand_over); counts as answered here.
  int hand_over() const;
  // The client's uid (ControlSession::peer_uid).
  uid_t peer_uid() const;

 private:
  struct Pending {
    explicit Pending(std::shared_ptr<ControlSession> s) : session(std::move(s)) {}
    Pending(const Pending&) = delete;
    Pending& operator=(const Pending&) = delete;
    ~Pending();
    std::shared_ptr<ControlSession> session;
    bool answered = false;
  };
  std::shared_ptr<Pending> pending_;
};

class ControlServer {
 public:
  using Respond = Responder;
  using Handler = std::function<void(const ipc::Request&, Respond)>;

  ControlServer(boost::asio::io_context& io, const config::DaemonConfig& config, Handler handler);
  ~ControlServer();

  // Creates the socket (refusing if another daemon answers on it) and starts
  // accepting. Returns the error on failure.
  Result<void> open();
  // Stops accepting, drops every session and removes the socket file.
  void close();
  // An in-place upgrade: the listening fd, kept open across the exec (every
  // session is closed; the file stays: it is the same socket's after the
  // exec), or -1; and the new musterd's side, which accepts on it again. A
  // socket taken over this way leaves its file at exit (the next start
  // removes a stale socket of its own uid).
  int hand_over();
  Result<void> adopt(int fd);
  // Ends every stream (events --follow, logs --follow) once what it was
  // sent has been written: an upgrade told its followers so.
  void end_streams();
  bool has_streams() const;

  // Internal: sessions report their end.
  void forget(ControlSession* session);

 private:
  // control_group's gid and members (group_, members_), if it names one.
  Result<void> use_control_group();
  void accept();
  void start_session(boost::asio::local::stream_protocol::socket socket);
  bool peer_allowed(int fd, std::string& who);

  boost::asio::io_context& io_;
  config::DaemonConfig config_;
  Handler handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  AcceptPause pause_;  // on EMFILE and the like: no busy loop
  std::optional<gid_t> group_;
  std::optional<GroupMembers> members_;  // of control_group, remembered per uid
  std::optional<ControlSocketFile> file_;
  std::set<std::shared_ptr<ControlSession>> sessions_;
};

}  // namespace muster::daemon
