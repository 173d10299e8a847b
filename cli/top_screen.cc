#include "cli/top_screen.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace muster::cli {

namespace {

constexpr int kCaught[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};

// Alternate screen (xterm's 1049: saves the cursor and the main screen),
// cursor hidden, cleared; and the way back.
constexpr std::string_view kEnter = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
constexpr std::string_view kLeave = "\x1b[0m\x1b[?25h\x1b[?1049l";

// The self-pipe: a handler writes the signal's number, wait() polls the
// other end. One TopScreen at a time owns it.
int signal_pipe[2] = {-1, -1};

extern "C" void on_signal(int signo) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(signo);
  [[maybe_unused]] ssize_t n = ::write(signal_pipe[1], &byte, 1);
  errno = saved;
}

}  // namespace

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

TopScreen::TopScreen() {
  // Without the pipe (no fd left) the signals keep their handlers: a signal
  // then ends top without restoring the terminal, rather than being lost.
  caught_ = ::pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) == 0;
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (std::size_t i = 0; caught_ && i < std::size(kCaught); ++i)
    ::sigaction(kCaught[i], &action, &saved_actions_[i]);

  stdin_is_terminal_ = ::isatty(STDIN_FILENO) == 1 && ::tcgetattr(STDIN_FILENO, &saved_mode_) == 0;
  if (stdin_is_terminal_) {
    termios mode = saved_mode_;
    mode.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | ISIG | IEXTEN);
    mode.c_cc[VMIN] = 1;
    mode.c_cc[VTIME] = 0;
    ::tcsetattr(STDIN_FILENO, TCSANOW, &mode);
  }
  write_all(STDOUT_FILENO, kEnter);
}

TopScreen::~TopScreen() {
  write_all(STDOUT_FILENO, kLeave);
  if (stdin_is_terminal_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_mode_);
  for (std::size_t i = 0; caught_ && i < std::size(kCaught); ++i)
    ::sigaction(kCaught[i], &saved_actions_[i], nullptr);
  if (caught_)
    for (int& fd : signal_pipe) {
      ::close(fd);
      fd = -1;
    }
}

TopScreen::Size TopScreen::size() const {
  winsize ws{};
  Size size;
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
    size.rows = ws.ws_row;
    size.columns = ws.ws_col;
  }
  return size;
}

TopScreen::Input TopScreen::wait(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{signal_pipe[0], POLLIN, 0}, {stdin_open_ ? STDIN_FILENO : -1, POLLIN, 0}};
  const int ready = ::poll(fds, 2, static_cast<int>(std::max<std::int64_t>(timeout.count(), 0)));
  if (ready <= 0) return {};  // the timeout, or EINTR: the pipe holds the signal
  if (fds[0].revents & POLLIN) {
    unsigned char signo = 0;
    Input input;
    // A resize is only worth a redraw; an ending signal wins over it.
    while (::read(signal_pipe[0], &signo, 1) == 1) {
      if (signo == SIGWINCH && input.kind != Input::Kind::signal) input.kind = Input::Kind::resize;
      if (signo != SIGWINCH) input = {Input::Kind::signal, 0, signo};
    }
    if (input.kind != Input::Kind::timeout) return input;
  }
  if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
    char keys[64];
    const ssize_t n = ::read(STDIN_FILENO, keys, sizeof(keys));
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) stdin_open_ = false;
    // One key per read in a terminal; an escape sequence arrives whole.
    if (n > 0 && keys[0] != '\x1b') return {Input::Kind::key, keys[n - 1], 0};
  }
  return {};
}

bool TopScreen::draw(const std::vector<std::string>& lines) {
  std::string screen = "\x1b[H";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    screen += lines[i];
    screen += "\x1b[K";  // the rest of the line as blank
    if (i + 1 < lines.size()) screen += "\r\n";
  }
  screen += "\x1b[J";  // and the rest of the screen
  return write_all(STDOUT_FILENO, screen);
}

}  // namespace muster::cli
