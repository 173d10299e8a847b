// Worker: the child's stdout/stderr, and reading it line by line into the
// app's OutputSink (output = "log", "file" or "journal").
#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cerrno>

#include "daemon/launch/spawn.h"
#include "daemon/output/output_pipe.h"
#include "daemon/output/output_sink.h"
#include "daemon/supervision/worker.h"

namespace muster::daemon {

namespace {

// A pipe whose read end becomes `into`; its write end for the child, or -1.
int output_pipe(boost::asio::io_context& io, std::shared_ptr<OutputPipe>& into) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return -1;
  into = std::make_shared<OutputPipe>(io, p[0]);
  return p[1];
}

}  // namespace

// Sets the fds the child gets as stdout and stderr (-1 = inherit the
// daemon's). log and file: one pipe for both, as a terminal would show them;
// journal: one each, so that stderr lines get their own priority.
Result<void> Worker::open_output(SpawnSpec& spec) {
  switch (app_.output) {
    case config::Output::inherit: return {};
    case config::Output::null:
      spec.stdout_fd = spec.stderr_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      break;
    case config::Output::file:  // through musterd, which writes and rotates the file
    case config::Output::log:
      spec.stdout_fd = spec.stderr_fd = output_pipe(io_, stdout_pipe_);
      break;
    case config::Output::journal:
      spec.stdout_fd = output_pipe(io_, stdout_pipe_);
      if (spec.stdout_fd >= 0) spec.stderr_fd = output_pipe(io_, stderr_pipe_);
      break;
  }
  if (spec.stdout_fd < 0 || spec.stderr_fd < 0) {
    int err = errno;
    return Error{"cannot open output: " + describe_errno(err), err};
  }
  return {};
}

// The pipes read on their own from now on; each line holds this life alive
// until the last writer closes its end.
void Worker::read_output() {
  auto read = [this](std::shared_ptr<OutputPipe>& pipe, bool from_stderr) {
    if (!pipe) return;
    (from_stderr ? stderr_reading_ : stdout_reading_) = pipe;
    std::string who = identity_.app + "[" + std::to_string(identity_.id) + "]";
    pipe->start(std::move(who), [self = shared_from_this(), from_stderr](std::string_view text) {
      LineOrigin from{self->identity_.id, self->identity_.instance, self->pid_, from_stderr};
      self->sink_->line(from, text);
    });
    pipe.reset();
  };
  read(stdout_pipe_, false);
  read(stderr_pipe_, true);
}

}  // namespace muster::daemon
