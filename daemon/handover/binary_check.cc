#include "daemon/handover/binary_check.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <memory>
#include <optional>

#include "daemon/common/errno_text.h"
#include "ipc/unique_fd.h"

namespace muster::daemon::handover {
namespace asio = boost::asio;
namespace {

// One line of JSON is far below this; more is not an answer.
constexpr std::size_t kMaxAnswer = 4096;
// How much of the first line of its stderr an error quotes.
constexpr std::size_t kMaxStderrLine = 200;

// One of the child's output pipes, read to its end: what is kept is
// bounded, the rest is read and dropped so that the child never blocks on
// a full pipe.
struct Capture {
  Capture(asio::io_context& io, std::size_t limit, bool first_line)
      : limit(limit), first_line(first_line), pipe(io) {}
  void keep(std::string_view data) {
    if (full) return;
    if (auto nl = first_line ? data.find('\n') : data.npos; nl != data.npos) {
      data = data.substr(0, nl);
      full = true;
    }
    if (data.size() > limit - kept.size()) {
      data = data.substr(0, limit - kept.size());
      full = overflow = true;
    }
    kept.append(data);
  }

  std::size_t limit;
  bool first_line;
  asio::posix::stream_descriptor pipe;
  std::array<char, 4096> chunk{};
  std::string kept;
  bool full = false;      // nothing more is kept
  bool overflow = false;  // there was more than `limit`
  bool ended = false;     // end of file (or a read error)
};

class BinaryCheck : public std::enable_shared_from_this<BinaryCheck> {
 public:
  BinaryCheck(asio::io_context& io, Launcher& launcher, std::string path,
              std::chrono::milliseconds bound, BinaryChecked done)
      : launcher_(launcher),
        path_(std::move(path)),
        bound_(bound),
        done_(std::move(done)),
        timer_(io),
        out_(io, kMaxAnswer, false),
        err_(io, kMaxStderrLine, true) {}

  void start();

 private:
  void read(Capture* capture);
  void on_started(Launcher::Started started);
  void on_bound();
  void kill();
  void maybe_finish();
  void finish_soon(Error error);
  void finish(Result<BinaryInfo> result);
  Result<BinaryInfo> outcome() const;
  std::string command() const { return "'" + path_ + " --upgrade-info'"; }
  std::string with_stderr(std::string text) const {
    return err_.kept.empty() ? text : text + ": " + err_.kept;
  }

  Launcher& launcher_;
  std::string path_;
  std::chrono::milliseconds bound_;
  BinaryChecked done_;
  asio::steady_timer timer_;
  Capture out_, err_;
  pid_t pid_ = -1;
  std::optional<ProcessExit> exit_;
  bool timed_out_ = false;
  bool killed_ = false;  // by us, at the bound
  bool finished_ = false;
};

std::vector<std::string> own_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return env;
}

// A pipe whose read end goes to `capture`; its write end, for the child.
Result<ipc::UniqueFd> pipe_into(Capture& capture) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) {
    int err = errno;
    return Error{"cannot make a pipe: " + describe_errno(err), err};
  }
  capture.pipe.assign(fds[0]);
  return ipc::UniqueFd(fds[1]);
}

void BinaryCheck::start() {
  auto out = pipe_into(out_);
  if (!out) return finish_soon(out.error());
  auto err = pipe_into(err_);
  if (!err) return finish_soon(err.error());
  SpawnSpec spec;
  spec.executable = path_;
  spec.args = {"--upgrade-info"};
  spec.cwd = "/";
  spec.env = own_environment();
  spec.stdout_fd = out->get();
  spec.stderr_fd = err->get();
  timer_.expires_after(bound_);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec != asio::error::operation_aborted) self->on_bound();
  });
  read(&out_);
  read(&err_);
  launcher_.spawn(spec, [self = shared_from_this()](Launcher::Started started) {
    self->on_started(std::move(started));
  });
  // Here the write ends close: the child holds the only ones, so its exit
  // (and its children's) ends both reads.
}

// `done` runs from the loop, as promised, not inside check_binary().
void BinaryCheck::finish_soon(Error error) {
  asio::post(timer_.get_executor(),
             [self = shared_from_this(), error = std::move(error)] { self->finish(error); });
}

void BinaryCheck::read(Capture* capture) {
  capture->pipe.async_read_some(
      asio::buffer(capture->chunk),
      [self = shared_from_this(), capture](boost::system::error_code ec, std::size_t n) {
        if (ec == asio::error::operation_aborted) return;
        capture->keep({capture->chunk.data(), n});
        if (!ec) return self->read(capture);
        capture->ended = true;
        self->maybe_finish();
      });
}

void BinaryCheck::on_started(Launcher::Started started) {
  if (!started) return finish(started.error());
  pid_ = *started;
  auto watched = launcher_.watch_exit(pid_, [self = shared_from_this()](const ProcessExit& exit) {
    self->exit_ = exit;
    self->maybe_finish();
  });
  if (!watched) {
    // Not ours to reap then: the orphan reaper's, once it is killed.
    launcher_.signal(pid_, SIGKILL, SignalTarget::group_or_process);
    launcher_.release(pid_);
    return finish(Error{"cannot watch " + command() + ": " + watched.error().message,
                        watched.error().errno_value});
  }
  if (timed_out_) kill();
}

void BinaryCheck::on_bound() {
  timed_out_ = true;
  if (pid_ > 0 && !exit_) kill();
  maybe_finish();
}

// The whole group: the binary leads its own session (spawn's setsid), and
// a child of its (a script's `sleep`) would otherwise hold the pipes open.
void BinaryCheck::kill() {
  killed_ = true;
  launcher_.signal(pid_, SIGKILL, SignalTarget::group_or_process);
}

// Done once the process is reaped and its output read to the end, or, past
// the bound, once it is reaped (a grandchild may hold the pipes open).
void BinaryCheck::maybe_finish() {
  if (finished_ || !exit_) return;
  if (!timed_out_ && !(out_.ended && err_.ended)) return;
  finish(outcome());
}

void BinaryCheck::finish(Result<BinaryInfo> result) {
  if (finished_) return;
  finished_ = true;
  timer_.cancel();
  boost::system::error_code ignored;
  out_.pipe.close(ignored);
  err_.pipe.close(ignored);
  auto done = std::move(done_);
  done(std::move(result));
}

Result<BinaryInfo> BinaryCheck::outcome() const {
  if (killed_)
    return Error{command() + " did not answer within " + std::to_string(bound_.count()) +
                 " ms (killed)"};
  if (exit_->signal) {
    const char* name = ::sigabbrev_np(*exit_->signal);
    std::string signal = name ? std::string("SIG") + name : std::to_string(*exit_->signal);
    return Error{with_stderr(command() + " was killed by " + signal)};
  }
  if (!exit_->code) return Error{command() + " ended, and how could not be read"};
  if (*exit_->code != 0)
    return Error{with_stderr(command() + " exited with status " + std::to_string(*exit_->code))};
  if (out_.overflow)
    return Error{command() + " printed more than " + std::to_string(kMaxAnswer) + " bytes"};
  auto info = parse_upgrade_info(out_.kept);
  if (!info) return info.error().prefixed(command() + " ");
  if (auto readable = reads_our_state(*info); !readable)
    return readable.error().prefixed("'" + path_ + "' ");
  return info;
}

}  // namespace

void check_binary(asio::io_context& io, Launcher& launcher, std::string path,
                  std::chrono::milliseconds bound, BinaryChecked done) {
  std::make_shared<BinaryCheck>(io, launcher, std::move(path), bound, std::move(done))->start();
}

}  // namespace muster::daemon::handover
