// The daemon's end of a pipe from a worker's stdout or stderr, read line by
// line until the worker (and whatever inherited the pipe) closes it. A line
// longer than the buffer comes out in pieces; what is left without a newline
// at the end is the last line. The pipe keeps itself alive while it reads.
// It can be handed over to a new pipe object (musterd upgrading itself across
// execve, issue 25) with the line it was in the middle of.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "ipc/line_buffer.h"
#include "ipc/unique_fd.h"

namespace muster::daemon {

class OutputPipe : public std::enable_shared_from_this<OutputPipe> {
 public:
  // Each line without its '\n' (nor a '\r' before it).
  using Line = std::function<void(std::string_view)>;

  // What a new pipe object needs to read on where this one stopped.
  struct Handover {
    ipc::UniqueFd fd;          // the read end, still close-on-exec
    std::string partial_line;  // read, with no newline yet
  };

  // Takes the pipe's read end.
  OutputPipe(boost::asio::io_context& io, int read_fd);
  // Takes over: the first line is `partial_line` and what follows it.
  OutputPipe(boost::asio::io_context& io, Handover handover);
  // Reads until end of stream; `on_line` is dropped then, with whatever it holds.
  // `who` names the writer in musterd's log ("web[3]").
  void start(std::string who, Line on_line);
  // Stops reading without closing the pipe (the worker notices nothing) and
  // drops `on_line`; no line comes out afterwards. An Error if the pipe is
  // already at its end (or handed over).
  Result<Handover> hand_over();

 private:
  void read();
  void on_readable();
  void take_lines(std::size_t n);
  void finish();
  void emit(const std::string& line);

  boost::asio::posix::stream_descriptor pipe_;
  ipc::LineBuffer lines_{16 * 1024};
  std::array<char, 4096> chunk_{};
  Line on_line_;
  std::string who_;
  bool done_ = false;  // at end of stream, or handed over
};

}  // namespace muster::daemon
