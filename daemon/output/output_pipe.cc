#include "daemon/output/output_pipe.h"

#include <spdlog/spdlog.h>

#include "daemon/common/memory_reserve.h"

namespace muster::daemon {
namespace asio = boost::asio;

OutputPipe::OutputPipe(asio::io_context& io, int read_fd) : pipe_(io, read_fd) {}

void OutputPipe::start(std::string who, Line on_line) {
  who_ = std::move(who);
  on_line_ = std::move(on_line);
  read();
}

void OutputPipe::read() {
  pipe_.async_read_some(asio::buffer(chunk_),
                        [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                          try {
                            if (n > 0) {
                              self->lines_.append({self->chunk_.data(), n});
                              while (auto line = self->lines_.next_line_or_chunk())
                                self->emit(*line);
                            }
                          } catch (const std::exception& e) {
                            memory_reserve::release_if_out_of_memory(e);
                            // Out of memory, say: these lines are lost, but the pipe is read
                            // on (a worker whose output is not read blocks in write()).
                            spdlog::error("{} output lost: {}", self->who_, e.what());
                          }
                          if (ec) {
                            // End of output (or a read error): whatever is left is the last line.
                            if (auto rest = self->lines_.take_rest(); !rest.empty())
                              self->emit(rest);
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
