#include "ipc/node_channel.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

#include "ipc/control_protocol.h"
#include "ipc/finite_json.h"
#include "ipc/passed_fds.h"

namespace muster::ipc {
namespace asio = boost::asio;

// Messages the control socket lets a client send are exactly those a worker may send.
static_assert(NodeChannel::kMaxLine == kMaxMessage);

namespace {

constexpr std::string_view kHandleAck = R"({"cmd":"NODE_HANDLE_ACK"})";

std::string_view cmd_of(const boost::json::value& v) {
  if (auto* obj = v.if_object())
    if (auto* cmd = obj->if_contains("cmd"); cmd && cmd->is_string()) return cmd->get_string();
  return {};
}

}  // namespace

NodeChannel::NodeChannel(asio::io_context& io, UniqueFd fd, Serialization serialization)
    : socket_(io, fd.release()), serialization_(serialization) {
  socket_.non_blocking(true);
}

void NodeChannel::start(MessageHandler on_message, CloseHandler on_close) {
  on_message_ = std::move(on_message);
  on_close_ = std::move(on_close);
  if (lines_.buffered() == 0 && frames_.buffered() == 0) return read();
  // Bytes taken over from an earlier channel: their messages come from the
  // loop, as ones read from the socket would, never from inside start().
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (!self->closed_) self->take_and_read_on();
  });
}

void NodeChannel::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  outbox_.clear();
  handle_waiting_.clear();
  received_fds_.clear();
  owned_fds_.clear();
  on_message_ = nullptr;
  on_close_ = nullptr;
}

void NodeChannel::fail(const std::string& error) {
  if (closed_) return;
  auto on_close = std::move(on_close_);
  close();
  // Posted: a failure found inside send() must not re-enter the caller.
  if (on_close) asio::post(socket_.get_executor(), [on_close, error] { on_close(error); });
}

void NodeChannel::read() {
  socket_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this()](boost::system::error_code ec) {
                       if (self->closed_) return;
                       if (ec) return self->fail("channel wait failed: " + ec.message());
                       self->on_readable();
                     });
}

void NodeChannel::on_readable() {
  std::array<char, 64 * 1024> data;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsInFlight)];
  iovec iov{data.data(), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(socket_.native_handle(), &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return read();
    return fail(std::string("channel read failed: ") + std::strerror(errno));
  }
  take_passed_fds(msg, [this](UniqueFd fd) { received_fds_.push_back(std::move(fd)); });
  if (msg.msg_flags & MSG_CTRUNC) return fail("worker sent more file descriptors than allowed");
  if (n == 0) {
    auto on_close = std::move(on_close_);
    close();
    if (on_close) on_close("");
    return;
  }
  std::string_view bytes(data.data(), static_cast<std::size_t>(n));
  if (serialization_ == Serialization::advanced) {
    frames_.append(bytes);
  } else {
    lines_.append(bytes);
  }
  take_and_read_on();
}

void NodeChannel::take_and_read_on() {
  // Handlers may close the channel (e.g. the worker is being replaced) or
  // hand it over: hold ourselves and stop as soon as that happens.
  auto self = shared_from_this();
  take_messages();
  if (closed_) return;
  if (lines_.overflowed() || frames_.overflowed()) return fail("worker sent a message over 1 MiB");
  if (received_fds_.size() > kMaxFdsInFlight)
    return fail("worker sent file descriptors without NODE_HANDLE messages");
  read();
}

void NodeChannel::take_messages() {
  while (!closed_) {
    if (serialization_ == Serialization::advanced) {
      auto payload = frames_.next();
      if (!payload) break;
      dispatch_frame(std::move(*payload));
    } else {
      auto line = lines_.next_line();
      if (!line) break;
      dispatch(*line);
    }
  }
}

void NodeChannel::dispatch(std::string& line) {
  // The answer to every handle we send is this exact line from a Node worker
  // (child_process.js JSON.stringify) and from muster's libraries: no parse.
  if (line == kHandleAck) return on_handle_answer(false);
  boost::system::error_code ec;
  boost::json::value message = boost::json::parse(line, ec);
  if (ec) return fail("worker sent invalid JSON: " + ec.message());
  null_non_finite(message);
  dispatch_message(std::move(message));
}

// A value muster does not read (an Error in a user message) still reaches the
// handler, as {"$unsupported": why}, with its payload to relay; a broken
// frame breaks the channel, as invalid JSON does.
void NodeChannel::dispatch_frame(std::string payload) {
  auto message = v8_payload_to_json(payload);
  if (!message) return fail("worker sent an unreadable V8 message: " + message.error().message);
  v8_payload_ = std::move(payload);
  dispatch_message(std::move(message->json));
  v8_payload_.clear();
}

void NodeChannel::dispatch_message(boost::json::value message) {
  std::string_view cmd = cmd_of(message);
  if (cmd == "NODE_HANDLE") {
    if (received_fds_.empty()) return fail("worker sent NODE_HANDLE without a file descriptor");
    UniqueFd fd = std::move(received_fds_.front());
    received_fds_.pop_front();
    send_serialized(std::string(kHandleAck));
    boost::json::object& envelope = message.as_object();
    boost::json::value inner;
    if (auto* m = envelope.if_contains("msg")) inner = std::move(*m);
    auto* type = envelope.if_contains("type");
    handle_type_ = type && type->is_string() ? std::string(type->get_string()) : "unknown";
    if (on_message_) on_message_(std::move(inner), std::move(fd));
    handle_type_.clear();
    return;
  }
  if (cmd == "NODE_HANDLE_ACK" || cmd == "NODE_HANDLE_NACK")
    return on_handle_answer(cmd == "NODE_HANDLE_NACK");
  if (on_message_) on_message_(std::move(message), UniqueFd());
}

void NodeChannel::on_handle_answer(bool nack) {
  if (!awaiting_ack_) return fail("worker acknowledged a handle that was never sent");
  // Only copies of the handle in flight carry fds in the outbox: one still
  // unsent means the worker answers for a handle it cannot have received.
  for (const Outgoing& out : outbox_)
    if (out.fd >= 0 && out.sent == 0)
      return fail("worker acknowledged a handle before receiving it");
  if (nack) {
    // "Send it again": the fd is still open (ours or lent) until the ACK.
    Outgoing again{in_flight_handle_.line, in_flight_handle_.fd};
    queued_bytes_ += again.line.size();
    if (queued_bytes_ > kMaxQueuedBytes)
      return fail("worker does not read its channel (over 8 MiB queued)");
    outbox_.push_back(std::move(again));
    flush();
    return;
  }
  awaiting_ack_ = false;
  // An fd we own is closed now; a lent one goes back to being only the lender's.
  std::erase_if(owned_fds_,
                [fd = in_flight_handle_.fd](const UniqueFd& o) { return o.get() == fd; });
  in_flight_handle_ = {};
  if (!handle_waiting_.empty()) {
    Outgoing next = std::move(handle_waiting_.front());
    handle_waiting_.pop_front();
    awaiting_ack_ = true;
    in_flight_handle_ = {next.line, next.fd};
    outbox_.push_back(std::move(next));
    flush();
  }
}

bool NodeChannel::send(const boost::json::value& message, int fd) {
  if (fd < 0) return send_serialized(boost::json::serialize(message));
  UniqueFd copy = duplicate(fd);
  if (!copy) return false;
  std::string line = R"({"cmd":"NODE_HANDLE","type":"net.Native","msg":)";
  line += boost::json::serialize(message);
  line += '}';
  return send_serialized(std::move(line), std::move(copy));
}

std::optional<std::string> NodeChannel::wire(std::string line) {
  if (serialization_ == Serialization::json) {
    line += '\n';
    return line;
  }
  auto frame = v8_frame_from_json(line);
  if (!frame) {
    conversion_error_ = frame.error().message;
    return std::nullopt;
  }
  return std::move(*frame);
}

bool NodeChannel::send_serialized(std::string line, UniqueFd fd) {
  if (closed_) return false;
  auto bytes = wire(std::move(line));
  if (!bytes) return false;  // nothing queued; `fd` closes here
  int number = fd.get();
  if (fd) owned_fds_.push_back(std::move(fd));
  return enqueue(std::move(*bytes), number);  // on failure the channel closed, and with it `fd`
}

bool NodeChannel::send_v8(std::string_view payload) {
  if (closed_ || serialization_ != Serialization::advanced) return false;
  return enqueue(v8_frame(payload), -1);
}

bool NodeChannel::lend(std::string line, int fd) {
  if (closed_) return false;
  auto bytes = wire(std::move(line));
  return bytes && enqueue(std::move(*bytes), fd);
}

bool NodeChannel::lent(int fd) const {
  if (fd < 0 || closed_ || !awaiting_ack_) return false;
  auto owned = [&](int n) {
    return std::any_of(owned_fds_.begin(), owned_fds_.end(),
                       [n](const UniqueFd& o) { return o.get() == n; });
  };
  if (in_flight_handle_.fd == fd) return !owned(fd);
  for (const Outgoing& out : handle_waiting_)
    if (out.fd == fd) return !owned(fd);
  return false;
}

bool NodeChannel::keep(int fd) {
  if (!lent(fd)) return true;
  UniqueFd copy = duplicate(fd);
  if (!copy) {
    fail("cannot keep a handle in flight: " + std::string(std::strerror(errno)));
    return false;
  }
  // Every queued message that will still carry the fd now carries our copy.
  auto swap = [&](Outgoing& out) {
    if (out.fd == fd) out.fd = copy.get();
  };
  swap(in_flight_handle_);
  for (Outgoing& out : handle_waiting_) swap(out);
  for (Outgoing& out : outbox_)
    if (out.sent == 0) swap(out);
  owned_fds_.push_back(std::move(copy));
  return true;
}

bool NodeChannel::enqueue(std::string line, int fd) {
  queued_bytes_ += line.size();
  if (queued_bytes_ > kMaxQueuedBytes) {
    fail("worker does not read its channel (over 8 MiB queued)");
    return false;
  }
  Outgoing out{std::move(line), fd};
  if (fd >= 0) {
    // Like Node's sender: one handle in flight; later ones wait for its ACK.
    if (awaiting_ack_) {
      handle_waiting_.push_back(std::move(out));
      return true;
    }
    awaiting_ack_ = true;
    in_flight_handle_ = {out.line, fd};
  }
  outbox_.push_back(std::move(out));
  flush();
  return true;
}

void NodeChannel::flush() {
  if (writing_ || closed_) return;
  while (!outbox_.empty()) {
    Outgoing& out = outbox_.front();
    // The fd rides with the first byte of its line.
    ssize_t n = send_with_fd(socket_.native_handle(), out.line.data() + out.sent,
                             out.line.size() - out.sent, out.sent == 0 ? out.fd : -1,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        writing_ = true;
        socket_.async_wait(asio::posix::stream_descriptor::wait_write,
                           [self = shared_from_this()](boost::system::error_code ec) {
                             self->writing_ = false;
                             if (self->closed_) return;
                             if (ec) return self->fail("channel wait failed: " + ec.message());
                             self->flush();
                           });
        return;
      }
      return fail(std::string("channel write failed: ") + std::strerror(errno));
    }
    out.sent += static_cast<std::size_t>(n);
    if (out.sent < out.line.size()) continue;
    queued_bytes_ -= out.line.size();
    outbox_.pop_front();
  }
}

}  // namespace muster::ipc
