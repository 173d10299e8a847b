// NodeChannel: handing the channel over to a new one without a byte lost or
// repeated, for musterd upgrading itself in place (issue 25: the socket
// crosses execve, the new musterd goes on where the old one stopped).
// Apart from node_channel.cc because it is about the channel's whole state,
// not about one message.
#include <boost/asio/post.hpp>
#include <string>

#include "ipc/node_channel.h"

namespace muster::ipc {
namespace asio = boost::asio;

NodeChannel::NodeChannel(asio::io_context& io, Handover handover)
    : NodeChannel(io, std::move(handover.fd), handover.serialization) {
  if (serialization_ == Serialization::advanced) {
    frames_.append(handover.unread);
  } else {
    lines_.append(handover.unread);
  }
}

std::string NodeChannel::busy_with() const {
  // An outbox holds whole messages and the one partly written: a byte of it
  // left behind would cut a message for the worker in two.
  if (!outbox_.empty() || writing_)
    return std::to_string(queued_bytes_) + " bytes not yet written to the worker";
  // The fd of a handle not ACKed yet lives only in this process (a NACK
  // sends it again).
  if (awaiting_ack_ || !handle_waiting_.empty()) return "a handle awaits the worker's ACK";
  // It came with a NODE_HANDLE line not read whole yet: the line goes over
  // in `unread`, its fd would not.
  if (!received_fds_.empty())
    return std::to_string(received_fds_.size()) + " received descriptors not yet claimed";
  return {};
}

bool NodeChannel::quiet() const { return busy_with().empty(); }

Result<NodeChannel::Handover> NodeChannel::hand_over() {
  if (closed_) return Error{"the channel is closed"};
  if (std::string busy = busy_with(); !busy.empty())
    return Error{"the channel is not quiet: " + busy};
  closed_ = true;  // a wait still pending completes (aborted) into nothing
  Handover handover;
  handover.serialization = serialization_;
  handover.unread =
      serialization_ == Serialization::advanced ? frames_.take_rest() : lines_.take_rest();
  handover.fd = UniqueFd(socket_.release());
  // Asked from inside the MessageHandler, that handler is still running:
  // its captures are destroyed later, on the loop, not under its feet.
  asio::post(socket_.get_executor(),
             [handlers = std::make_pair(std::move(on_message_), std::move(on_close_))] {});
  on_message_ = nullptr;
  on_close_ = nullptr;
  return handover;
}

}  // namespace muster::ipc
