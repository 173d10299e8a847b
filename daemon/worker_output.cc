// Worker: the child's stdout/stderr, and reading it line by line into the
// app's OutputSink (output = "log" or "file").
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <spdlog/spdlog.h>

#include "daemon/memory_reserve.h"
#include "daemon/output_sink.h"
#include "daemon/spawn.h"
#include "daemon/worker.h"

namespace muster::daemon {
namespace asio = boost::asio;

// Returns the fd the child gets as stdout/stderr (-1 = inherit the daemon's);
// for output = log, the pipe's read end goes to output_.
int Worker::open_output(std::string& error) {
  int fd = -1;
  switch (app_.output) {
    case config::Output::inherit:
      return -1;
    case config::Output::null:
      fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      break;
    case config::Output::file:  // through musterd, which writes and rotates the file
    case config::Output::log: {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) < 0) break;
      output_.assign(p[0]);
      return p[1];
    }
  }
  if (fd < 0) error = "cannot open output: " + describe_errno(errno);
  return fd;
}

void Worker::read_output() {
  output_.async_read_some(
      asio::buffer(output_chunk_),
      [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        try {
          if (n > 0) {
            self->output_lines_.append({self->output_chunk_.data(), n});
            while (auto line = self->output_lines_.next_line_or_chunk())
              self->flush_output_line(*line);
          }
        } catch (const std::exception& e) {
          memory_reserve::release_if_out_of_memory(e);
          // Out of memory, say: these lines are lost, but the pipe is read
          // on (a worker whose output is not read blocks in write()).
          spdlog::error("{}[{}] output lost: {}", self->identity_.app, self->identity_.id,
                        e.what());
        }
        if (ec) {
          // End of output (or a read error): whatever is left is the last line.
          if (auto rest = self->output_lines_.take_rest(); !rest.empty())
            self->flush_output_line(rest);
          self->output_.close();
          return;
        }
        self->read_output();
      });
}

void Worker::flush_output_line(const std::string& line) {
  std::string_view text = line;
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  sink_->line(identity_.id, text);
}

}  // namespace muster::daemon
