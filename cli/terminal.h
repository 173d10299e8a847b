// What musterctl writes to a terminal: worker output, status texts and event
// payloads are text any worker chose, so on a terminal their control
// characters are escaped (ipc::escape_controls: `\x1b` for ESC) rather than
// obeyed: no window title, screen clear, clipboard write (OSC 52) or `\r`
// that hides a line. A pipe or file gets the text as musterd has it, and
// --raw passes everything through to a terminal too.
#pragma once

#include <string>

namespace muster::cli {

class TerminalText {
 public:
  // `raw`: the operator asked for control characters as they are;
  // `no_colour`: for --no-color.
  explicit TerminalText(bool raw, bool no_colour = false);

  // `text` as it may be written to stdout (or stderr): escaped when that is
  // a terminal, unless raw. Tabs and newlines stay as they are.
  std::string for_stdout(std::string text) const;
  std::string for_stderr(std::string text) const;
  // Whether to colour what goes to stdout: a terminal, no --no-color, and
  // NO_COLOR unset or empty (https://no-color.org).
  bool colour() const { return colour_; }

 private:
  bool escape_stdout_;
  bool escape_stderr_;
  bool colour_;
};

}  // namespace muster::cli
