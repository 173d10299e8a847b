// The daemon's end of a pipe from a worker's stdout or stderr, read line by
// line until the worker (and whatever inherited the pipe) closes it. A line
// longer than the buffer comes out in pieces; what is left without a newline
// at the end is the last line. The pipe keeps itself alive while it reads.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ipc/line_buffer.h"

namespace muster::daemon {

class OutputPipe : public std::enable_shared_from_this<OutputPipe> {
 public:
  // Each line without its '\n' (nor a '\r' before it).
  using Line = std::function<void(std::string_view)>;

  // Takes the pipe's read end.
  OutputPipe(boost::asio::io_context& io, int read_fd);
  // Reads until end of stream; `on_line` is dropped then, with whatever it holds.
  // `who` names the writer in musterd's log ("web[3]").
  void start(std::string who, Line on_line);

 private:
  void read();
  void emit(const std::string& line);

  boost::asio::posix::stream_descriptor pipe_;
  ipc::LineBuffer lines_{16 * 1024};
  std::array<char, 4096> chunk_{};
  Line on_line_;
  std::string who_;
};

}  // namespace muster::daemon
