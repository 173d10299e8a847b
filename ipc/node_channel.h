// The daemon's end of a Node IPC channel (see shared/node-ipc-protocol.md and
// Node's lib/internal/child_process.js): newline-delimited JSON ('json'
// serialization) or length-prefixed V8 values ('advanced', ipc/v8_frames.h)
// over a Unix stream socketpair, with file descriptors passed by SCM_RIGHTS
// alongside NODE_HANDLE envelopes. This class owns the framing and the handle
// ACK/NACK rules; it knows nothing of cluster acts. The daemon speaks JSON to
// it in either mode: in 'advanced' it converts at the wire (v8_json.h's
// rendering for what JSON cannot hold).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/json.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "ipc/line_buffer.h"
#include "ipc/unique_fd.h"
#include "ipc/v8_frames.h"

namespace muster::ipc {

// NODE_CHANNEL_SERIALIZATION_MODE.
enum class Serialization { json, advanced };

class NodeChannel : public std::enable_shared_from_this<NodeChannel> {
 public:
  static constexpr std::size_t kMaxLine = 1 << 20;         // one message (ipc::kMaxMessage)
  static constexpr std::size_t kMaxQueuedBytes = 8 << 20;  // unsent to the worker
  static constexpr std::size_t kMaxFdsInFlight = 16;       // received, not yet claimed

  // A message from the worker. NODE_HANDLE envelopes are unwrapped: `message`
  // is the inner one and `fd` the handle that came with it.
  using MessageHandler = std::function<void(boost::json::value message, UniqueFd fd)>;
  // The channel is finished: the worker closed it, or broke the protocol
  // (`error` says how; empty for a clean close).
  using CloseHandler = std::function<void(const std::string& error)>;

  NodeChannel(boost::asio::io_context& io, UniqueFd fd,
              Serialization serialization = Serialization::json);

  // What a new channel needs to go on where this one stopped (musterd
  // upgrading itself across execve, issue 25): the socket, its framing, and
  // the bytes read from it but not yet dispatched (part of a message, or
  // whole ones a handler handed over before they came out). The fd is
  // close-on-exec: clearing that for the execve is the caller's business.
  struct Handover {
    UniqueFd fd;
    Serialization serialization = Serialization::json;
    std::string unread;
  };
  // Takes over: `unread` comes before whatever the socket holds. Whole
  // messages in it are dispatched (posted) once start() is called.
  NodeChannel(boost::asio::io_context& io, Handover handover);

  void start(MessageHandler on_message, CloseHandler on_close);
  // Queues one message. With `fd`, it travels in a NODE_HANDLE envelope and
  // further handle-carrying messages wait until the worker ACKs it. Returns
  // false if the channel is closed, its queue is over its bound, or `fd`
  // cannot be copied. The channel keeps its own copy of `fd` until the ACK (a
  // NACK makes us send it again): the caller may close its own at any time.
  bool send(const boost::json::value& message, int fd = -1);
  // Same, for a message already serialised (no newline; valid JSON, which for
  // a handle message is the whole NODE_HANDLE envelope). The channel owns `fd`
  // from now on and closes it after the ACK (or when it closes). In
  // 'advanced' mode a message that does not convert (an unknown `$` form) is
  // not sent: false, and conversion_error() says why; the channel stays open.
  bool send_serialized(std::string line, UniqueFd fd = {});
  // 'advanced' only: a V8 payload as a worker sent it (relayed byte-exact).
  bool send_v8(std::string_view payload);
  Serialization serialization() const { return serialization_; }
  const std::string& conversion_error() const { return conversion_error_; }
  // Inside the MessageHandler, in 'advanced' mode: the message's V8 payload
  // as it came (empty in 'json' mode).
  const std::string& v8_payload() const { return v8_payload_; }
  // The hot path (a newconn): the same with a handle the caller only lends,
  // so no copy is made. The caller keeps owning `fd` and must keep it open
  // until the worker ACKs it or the channel closes; a caller that has to let
  // it go sooner calls keep() first. False: nothing was queued (and nothing
  // of `fd` kept).
  bool lend(std::string line, int fd);
  // Whether `fd` is lent to a handle message not yet ACKed.
  bool lent(int fd) const;
  // The lender lets go of `fd` before the ACK (a worker that answers a
  // newconn before it has it): the channel takes its own copy. Rare path.
  bool keep(int fd);
  // Closes our end (the worker sees EOF); no handler runs afterwards.
  void close();
  bool is_open() const { return socket_.is_open(); }
  // Nothing only this object knows of: no byte queued or half-written for
  // the worker, no handle awaiting its ACK (nor one waiting behind it), no
  // received fd not yet claimed by its NODE_HANDLE. Only a quiet channel can
  // be handed over: what the kernel holds (both ways) goes with the fd.
  bool quiet() const;
  // Stops reading without closing the socket, and returns it with the bytes
  // read but not dispatched. Afterwards the channel is closed for us (no
  // handler runs, the CloseHandler neither) while the worker sees nothing.
  // May be called from inside the MessageHandler. An Error saying why, and
  // nothing changes, if the channel is closed or not quiet().
  Result<Handover> hand_over();
  // Bytes queued for the worker and not yet written (at most kMaxQueuedBytes).
  std::size_t queued_bytes() const { return queued_bytes_; }
  // Inside the MessageHandler, for a message that came with an fd: what the
  // worker said it is, the envelope's `type` ("net.Socket", "net.Server",
  // "net.Native", "dgram.Socket" or "dgram.Native" in Node's child_process.js).
  const std::string& handle_type() const { return handle_type_; }

 private:
  struct Outgoing {
    std::string line;
    int fd = -1;  // lent, or one of owned_fds_; kept until the ACK
    std::size_t sent = 0;
  };
  // JSON text as it goes on the wire: a line, or a V8 frame (nothing, with
  // conversion_error_ set, if it does not convert).
  std::optional<std::string> wire(std::string line);
  bool enqueue(std::string bytes, int fd);
  void read();
  void on_readable();
  // Dispatches every whole message buffered, then reads on.
  void take_and_read_on();
  // Why the channel is not quiet(); empty if it is.
  std::string busy_with() const;
  void take_messages();
  void dispatch(std::string& line);
  void dispatch_frame(std::string payload);
  void dispatch_message(boost::json::value message);
  void on_handle_answer(bool nack);  // NODE_HANDLE_ACK / NACK
  void flush();
  void fail(const std::string& error);

  boost::asio::posix::stream_descriptor socket_;
  MessageHandler on_message_;
  CloseHandler on_close_;
  Serialization serialization_;
  LineBuffer lines_{kMaxLine};
  FrameBuffer frames_{kMaxLine};
  std::string v8_payload_;
  std::string conversion_error_;
  std::deque<UniqueFd> received_fds_;
  std::deque<Outgoing> outbox_;          // ready to write, in order
  std::deque<Outgoing> handle_waiting_;  // handle messages held until the ACK
  Outgoing in_flight_handle_;            // sent, not yet ACKed (fd >= 0 while so)
  // The handle fds the channel owns (sent with send()/send_serialized(), or
  // kept): closed at their ACK. Lent fds are not here; normally empty on the
  // hot path.
  std::vector<UniqueFd> owned_fds_;
  std::string handle_type_;
  bool awaiting_ack_ = false;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closed_ = false;
};

}  // namespace muster::ipc
