// One control-socket client: reads request lines (bounded), runs them one at a
// time in order, and queues replies (bounded: a client that does not read is
// dropped rather than letting its replies grow without limit; a follower is
// told so in a last line). Every line sent is made printable JSON here.
#pragma once

#include <array>
#include <boost/asio/local/stream_protocol.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "daemon/control/control_server.h"
#include "ipc/line_buffer.h"

namespace muster::daemon {

class ControlSession : public std::enable_shared_from_this<ControlSession> {
 public:
  // Generous enough for a follower on a busy machine to ride out a burst of
  // events (a worker flooding messages); still a bound.
  static constexpr std::size_t kMaxQueuedReplyBytes = 8 << 20;

  ControlSession(boost::asio::local::stream_protocol::socket socket, ControlServer& server,
                 ControlServer::Handler& handler);

  void start();
  // The answer to the request being handled.
  void reply(std::string line);
  // See Responder::stream / push.
  void begin_stream(std::function<void()> on_close);
  void push(std::string line);
  // Sends one line and closes (used to refuse a peer).
  void refuse(const std::string& line);
  void close();
  // A stream ends once what it was sent is written (ControlServer::end_streams).
  void end_stream();
  // The client's uid (SO_PEERCRED when it connected); -1 if unknown.
  uid_t peer_uid() const { return peer_uid_; }
  void set_peer_uid(uid_t uid) { peer_uid_ = uid; }
  // An in-place upgrade: the connection's fd for the new musterd to answer
  // on (this session closes without closing it), or -1 if a reply to an
  // earlier request is still unwritten (the connection is closed then).
  int hand_over();

 private:
  template <class F>
  void guarded(F&& f);
  void pump();
  void post_pump();
  void dispatch(const std::string& line);
  void read();
  void send(std::string line);
  void drop_follower();
  void write_next();

  boost::asio::local::stream_protocol::socket socket_;
  ControlServer& server_;
  ControlServer::Handler& handler_;
  ipc::LineBuffer lines_{ipc::kMaxControlLine};
  std::array<char, 4096> chunk_{};
  // Replies and stream lines not yet written, end to end, and the bytes of
  // the write in flight: every write takes all that is queued at once, so a
  // follower that reads as fast as it can keeps up with bursts of events.
  std::string outbox_;
  std::string in_flight_;
  bool busy_ = false;  // a request is being handled
  bool pump_posted_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool close_after_write_ = false;
  bool closed_ = false;
  bool streaming_ = false;
  bool peer_done_ = false;  // the client shut down its sending side
  // A follower dropped for not reading: its queue was emptied, and what it
  // missed is counted until the notice saying so is written.
  bool dropping_ = false;
  bool notice_sent_ = false;
  std::uint64_t dropped_lines_ = 0;
  std::uint64_t dropped_bytes_ = 0;
  std::function<void()> on_stream_close_;
  uid_t peer_uid_ = static_cast<uid_t>(-1);
};

}  // namespace muster::daemon
