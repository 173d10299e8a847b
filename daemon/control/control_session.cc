#include "daemon/control/control_session.h"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <variant>

#include "daemon/common/memory_reserve.h"
#include "ipc/utf8.h"

namespace muster::daemon {
namespace asio = boost::asio;
namespace {

// The last line of a stream whose follower was dropped (docs/control-protocol.md,
// "A follower that falls behind").
std::string drop_notice(std::uint64_t lines, std::uint64_t bytes) {
  constexpr std::size_t kMiB = ControlSession::kMaxQueuedReplyBytes >> 20;
  boost::json::object notice{
      {"ok", false},
      {"error", "musterd dropped this follower: it did not read fast enough and more than " +
                    std::to_string(kMiB) + " MiB was waiting for it; " + std::to_string(lines) +
                    " line(s) (" + std::to_string(bytes) +
                    " bytes) were not sent, and the stream ends here"},
      {"dropped_lines", lines},
      {"dropped_bytes", bytes}};
  return boost::json::serialize(notice) + "\n";
}

}  // namespace

ControlSession::ControlSession(asio::local::stream_protocol::socket socket, ControlServer& server,
                               ControlServer::Handler& handler)
    : socket_(std::move(socket)), server_(server), handler_(handler) {}

void ControlSession::start() { pump(); }

void ControlSession::refuse(const std::string& line) {
  close_after_write_ = true;
  send(line);
}

Responder::Responder(std::shared_ptr<ControlSession> session)
    : pending_(std::make_shared<Pending>(std::move(session))) {}

void Responder::operator()(std::string reply_line) const {
  pending_->answered = true;
  pending_->session->reply(std::move(reply_line));
}

void Responder::stream(std::function<void()> on_close) const {
  pending_->session->begin_stream(std::move(on_close));
}

void Responder::push(std::string line) const { pending_->session->push(std::move(line)); }

uid_t Responder::peer_uid() const { return pending_->session->peer_uid(); }

int Responder::hand_over() const {
  pending_->answered = true;
  return pending_->session->hand_over();
}

Responder::Pending::~Pending() {
  if (answered || !session) return;
  spdlog::error(
      "control: a request was dropped without an answer (an error in its "
      "completion); answering it with an error");
  try {
    session->reply(
        ipc::error_reply("internal error: the request failed before it could be "
                         "answered; see musterd's log"));
  } catch (const std::exception&) {
    session->close();  // the client at least sees the end, not a hang
  }
}

void ControlSession::reply(std::string line) {
  if (closed_) return;
  send(std::move(line));
  if (streaming_) return;  // stays busy: no more requests on a stream
  busy_ = false;
  post_pump();
}

// One request per turn of the loop: a client's next request waits behind
// other clients' ready work, and an answer given at once does not recurse
// into the next request (a line buffer full of tiny requests would otherwise
// run them all, deeper and deeper, before anyone else is served).
void ControlSession::post_pump() {
  if (pump_posted_ || closed_) return;
  pump_posted_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->pump_posted_ = false;
    self->guarded([&] { self->pump(); });
  });
}

void ControlSession::begin_stream(std::function<void()> on_close) {
  streaming_ = true;
  on_stream_close_ = std::move(on_close);
  // Keep reading, only to notice when the client goes away.
  if (!reading_ && !closed_) read();
}

void ControlSession::push(std::string line) { send(std::move(line)); }

void ControlSession::end_stream() {
  if (!streaming_ || closed_) return;
  close_after_write_ = true;
  if (!writing_) write_next();
}

int ControlSession::hand_over() {
  if (closed_ || writing_ || !outbox_.empty()) {
    close();
    return -1;
  }
  closed_ = true;
  if (auto hook = std::move(on_stream_close_)) hook();
  int fd = socket_.release();
  server_.forget(this);
  return fd;
}

void ControlSession::close() {
  if (closed_) return;
  closed_ = true;
  if (auto hook = std::move(on_stream_close_)) hook();
  boost::system::error_code ignored;
  socket_.close(ignored);
  server_.forget(this);
}

// A completion of this session that throws (out of memory) ends the session,
// not musterd: the client sees the connection close.
template <class F>
void ControlSession::guarded(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    memory_reserve::release_if_out_of_memory(e);
    spdlog::error("control: dropping a client: {}", e.what());
    close();
  }
}

// Runs every complete request line, one at a time; reads more only when idle,
// so a client can never make the daemon buffer more than one line of it.
void ControlSession::pump() {
  if (!busy_ && !closed_ && !close_after_write_) {
    if (auto line = lines_.next_line()) {
      dispatch(*line);
      if (!busy_) post_pump();  // answered already (or refused): the next one later
      return;
    }
  }
  if (closed_ || close_after_write_) return;
  if (peer_done_) {
    // The client half-closed: answer what it sent, then hang up.
    if (!busy_ && !writing_ && outbox_.empty()) close();
    return;
  }
  if (lines_.overflowed()) {
    close_after_write_ = true;
    send(ipc::error_reply("request line too long (limit " + std::to_string(ipc::kMaxControlLine) +
                          " bytes)"));
    return;
  }
  if (!busy_ && !reading_) read();
}

void ControlSession::dispatch(const std::string& line) {
  auto parsed = ipc::parse_request(line);
  if (!parsed) {
    send(ipc::error_reply(parsed.error().message));
    return;
  }
  busy_ = true;
  handler_(*parsed, Responder(shared_from_this()));
}

void ControlSession::read() {
  reading_ = true;
  socket_.async_read_some(asio::buffer(chunk_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            self->reading_ = false;
                            if (self->closed_) return;
                            if (ec == boost::asio::error::eof && !self->streaming_) {
                              // No more requests, but replies to those already sent are still owed.
                              self->peer_done_ = true;
                              self->pump();
                              return;
                            }
                            if (ec) {
                              // The client went away. A request still running finishes without it.
                              self->close();
                              return;
                            }
                            if (self->streaming_)
                              return self->read();  // input on a stream is ignored
                            self->guarded([&] {
                              self->lines_.append({self->chunk_.data(), n});
                              self->pump();
                            });
                          });
}

// Every line musterd sends a control client passes here: the one place that
// makes it printable JSON (valid UTF-8, no raw control character), whatever
// bytes a worker put into the output, a status text or an event.
void ControlSession::send(std::string line) {
  if (closed_) return;
  if (dropping_) {  // a dropped follower: what comes now is counted, not sent
    ++dropped_lines_;
    dropped_bytes_ += line.size();
    return;
  }
  ipc::make_json_printable(line);
  outbox_ += line;
  if (outbox_.size() + in_flight_.size() > kMaxQueuedReplyBytes) {
    if (streaming_) return drop_follower();
    spdlog::warn("control client does not read its replies; disconnecting it");
    close();
    return;
  }
  if (!writing_) write_next();
}

// A follower over the bound loses the lines queued for it, but not silently:
// once the write under way is done, it gets one last line saying how many
// were dropped (composed then, so it counts every one), and is closed. The
// queue is emptied for that line, so it always fits.
void ControlSession::drop_follower() {
  dropping_ = true;
  close_after_write_ = true;
  dropped_lines_ = static_cast<std::uint64_t>(std::count(outbox_.begin(), outbox_.end(), '\n'));
  dropped_bytes_ = outbox_.size();
  std::string().swap(outbox_);
  spdlog::warn(
      "control client following a stream does not read fast enough ({} MiB waiting); "
      "dropping {} line(s) queued for it and ending its stream with an error",
      kMaxQueuedReplyBytes >> 20, dropped_lines_);
  if (!writing_) write_next();
}

// Writes everything queued in one write: a follower must be able to keep up
// with events published in bursts (one worker-channel read can publish
// hundreds of KiB of event lines).
void ControlSession::write_next() {
  if (outbox_.empty() && dropping_ && !notice_sent_) {
    notice_sent_ = true;
    outbox_ = drop_notice(dropped_lines_, dropped_bytes_);
  }
  if (outbox_.empty()) {
    if (close_after_write_ || (peer_done_ && !busy_)) close();
    return;
  }
  writing_ = true;
  in_flight_.swap(outbox_);
  asio::async_write(socket_, asio::buffer(in_flight_),
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                      self->writing_ = false;
                      if (self->closed_) return;
                      if (ec) {
                        self->close();
                        return;
                      }
                      self->in_flight_.clear();
                      // After a burst, give back what a quiet client does not need.
                      if (self->in_flight_.capacity() > (1u << 20))
                        self->in_flight_.shrink_to_fit();
                      self->write_next();
                    });
}

}  // namespace muster::daemon
