#include "cli/terminal.h"

#include <unistd.h>

#include <cstdlib>

#include "ipc/utf8.h"

namespace muster::cli {
namespace {

std::string escaped_if(bool escape, std::string text) {
  if (!escape) return text;
  return ipc::escape_controls(text, ipc::Newlines::keep);
}

bool no_color_unset() {
  const char* value = std::getenv("NO_COLOR");
  return value == nullptr || *value == '\0';
}

}  // namespace

TerminalText::TerminalText(bool raw, bool no_colour)
    : escape_stdout_(!raw && ::isatty(STDOUT_FILENO) == 1),
      escape_stderr_(!raw && ::isatty(STDERR_FILENO) == 1),
      colour_(!no_colour && ::isatty(STDOUT_FILENO) == 1 && no_color_unset()) {}

std::string TerminalText::for_stdout(std::string text) const {
  return escaped_if(escape_stdout_, std::move(text));
}

std::string TerminalText::for_stderr(std::string text) const {
  return escaped_if(escape_stderr_, std::move(text));
}

}  // namespace muster::cli
