#include "daemon/output/output_pipe.h"

#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cerrno>

#include "daemon/common/memory_reserve.h"

namespace muster::daemon {
namespace asio = boost::asio;

OutputPipe::OutputPipe(asio::io_context& io, int read_fd) : pipe_(io, read_fd) {
  pipe_.non_blocking(true);
}

OutputPipe::OutputPipe(asio::io_context& io, Handover handover)
    : OutputPipe(io, handover.fd.release()) {
  lines_.append(handover.partial_line);
}

void OutputPipe::start(std::string who, Line on_line) {
  who_ = std::move(who);
  on_line_ = std::move(on_line);
  read();
}

Result<OutputPipe::Handover> OutputPipe::hand_over() {
  if (done_) return Error{"the output pipe is closed"};
  done_ = true;  // the wait still pending completes (aborted) into nothing
  Handover handover{ipc::UniqueFd(pipe_.release()), lines_.take_rest()};
  on_line_ = nullptr;
  return handover;
}

// A wait, then our own read(): asio's async_read_some may read at once and
// post its handler, and bytes read by then would be lost to a hand-over
// that comes before the handler runs.
void OutputPipe::read() {
  pipe_.async_wait(asio::posix::stream_descriptor::wait_read,
                   [self = shared_from_this()](boost::system::error_code ec) {
                     if (self->done_) return;
                     if (ec) return self->finish();
                     self->on_readable();
                   });
}

void OutputPipe::on_readable() {
  ssize_t n = ::read(pipe_.native_handle(), chunk_.data(), chunk_.size());
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return read();
  if (n <= 0) return finish();  // end of output, or a read error
  take_lines(static_cast<std::size_t>(n));
  read();
}

void OutputPipe::take_lines(std::size_t n) {
  try {
    lines_.append({chunk_.data(), n});
    while (auto line = lines_.next_line_or_chunk()) emit(*line);
  } catch (const std::exception& e) {
    memory_reserve::release_if_out_of_memory(e);
    // Out of memory, say: these lines are lost, but the pipe is read on (a
    // worker whose output is not read blocks in write()).
    spdlog::error("{} output lost: {}", who_, e.what());
  }
}

// Whatever is left is the last line.
void OutputPipe::finish() {
  done_ = true;
  if (auto rest = lines_.take_rest(); !rest.empty()) emit(rest);
  boost::system::error_code ignored;
  pipe_.close(ignored);
  on_line_ = nullptr;
}

void OutputPipe::emit(const std::string& line) {
  std::string_view text = line;
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  on_line_(text);
}

}  // namespace muster::daemon
