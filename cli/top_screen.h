// The terminal while `musterctl top` draws on it, with plain ANSI (ECMA-48 /
// xterm) sequences and termios: the alternate screen, the cursor hidden, and
// keys read one at a time without echo. Whatever ends top (q, Ctrl-C, a
// signal, an error, an exception) ends with the terminal as it was, through
// the destructor: signals are caught (a self-pipe), never left to kill the
// process halfway.
#pragma once

#include <signal.h>
#include <termios.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace muster::cli {

class TopScreen {
 public:
  // Catches SIGINT, SIGTERM, SIGHUP and SIGWINCH, puts stdin (if it is a
  // terminal) into non-canonical mode without echo and without signal keys
  // (Ctrl-C arrives as a key), switches stdout to the alternate screen and
  // hides the cursor.
  TopScreen();
  // Shows the cursor, leaves the alternate screen, restores stdin's mode and
  // the signals' previous handlers.
  ~TopScreen();
  TopScreen(const TopScreen&) = delete;
  TopScreen& operator=(const TopScreen&) = delete;

  struct Size {
    std::size_t rows = 24;
    std::size_t columns = 80;
  };
  // The terminal's size (TIOCGWINSZ on stdout); 24x80 if it does not say.
  Size size() const;

  struct Input {
    enum class Kind { timeout, key, resize, signal };
    Kind kind = Kind::timeout;
    char key = 0;   // kind key: the key pressed
    int signo = 0;  // kind signal: SIGINT, SIGTERM or SIGHUP
  };
  // Waits up to `timeout` (poll(), no busy loop) for a key, a resize or a
  // signal. Escape sequences (arrow keys...) are not keys.
  Input wait(std::chrono::milliseconds timeout);

  // Draws `lines` from the top left corner, clearing what each line and the
  // screen below them held before. Each line must fit the width already.
  // False if stdout cannot be written.
  bool draw(const std::vector<std::string>& lines);

 private:
  bool caught_ = false;  // the self-pipe is open and the signals are caught
  bool stdin_is_terminal_ = false;
  bool stdin_open_ = true;  // false once stdin reached end of file
  termios saved_mode_{};
  struct sigaction saved_actions_[4]{};
};

// Writes all of `text` to `fd`, retrying on EINTR; false on an error.
bool write_all(int fd, std::string_view text);

}  // namespace muster::cli
