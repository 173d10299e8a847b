#include "daemon/output_pipe.h"

namespace muster::daemon {
namespace asio = boost::asio;

OutputPipe::OutputPipe(asio::io_context& io, int read_fd) : pipe_(io, read_fd) {}

void OutputPipe::start(Line on_line) {
  on_line_ = std::move(on_line);
  read();
}

void OutputPipe::read() {
  pipe_.async_read_some(
      asio::buffer(chunk_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        if (n > 0) {
          self->lines_.append({self->chunk_.data(), n});
          while (auto line = self->lines_.next_line_or_chunk()) self->emit(*line);
        }
        if (ec) {
          // End of output (or a read error): whatever is left is the last line.
          if (auto rest = self->lines_.take_rest(); !rest.empty()) self->emit(rest);
          self->pipe_.close();
          self->on_line_ = nullptr;
          return;
        }
        self->read();
      });
}

void OutputPipe::emit(const std::string& line) {
  std::string_view text = line;
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  on_line_(text);
}

}  // namespace muster::daemon
